INSERT INTO source_health AS h (source, status, last_run_at, consecutive_failures, last_error)
VALUES (:source,
        CASE WHEN :paused THEN 'paused' WHEN :down_after <= 1 THEN 'down' ELSE 'never' END,
        :at, 1, :error)
ON CONFLICT (source) DO UPDATE SET
    status = CASE
        WHEN :paused THEN 'paused'
        WHEN h.consecutive_failures + 1 >= :down_after THEN 'down'
        WHEN h.last_success_at IS NOT NULL THEN 'up'
        ELSE 'never'
    END,
    last_run_at          = excluded.last_run_at,
    consecutive_failures = h.consecutive_failures + 1,
    last_error           = excluded.last_error
RETURNING status, consecutive_failures
