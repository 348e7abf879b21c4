INSERT INTO collector_runs (run_id, source, started_at, status, cursor_before)
VALUES (:run_id, :source, :started_at, 'running', CAST(:cursor_before AS jsonb))
