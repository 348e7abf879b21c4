INSERT INTO collector_runs (run_id, source, started_at, finished_at, status, error)
VALUES (:run_id, :source, :at, :at, 'skipped', :reason)
