-- runs still 'running' while nobody holds the source's lock: their process ended mid-run
UPDATE collector_runs
SET status = 'failed', finished_at = coalesce(finished_at, now()),
    error = 'interrupted: the process ended during the run (committed pages are kept)'
WHERE source = :source AND status = 'running'
