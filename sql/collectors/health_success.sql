INSERT INTO source_health AS h (source, status, last_run_at, last_success_at, consecutive_failures,
                                last_error, last_event_time)
VALUES (:source, CASE WHEN :paused THEN 'paused' ELSE 'up' END, :at, :at, 0, NULL, :last_event_time)
ON CONFLICT (source) DO UPDATE SET
    status               = excluded.status,
    last_run_at          = excluded.last_run_at,
    last_success_at      = excluded.last_success_at,
    consecutive_failures = 0,
    last_error           = NULL,
    last_event_time      = greatest(h.last_event_time, excluded.last_event_time)
