-- every source known by its configuration or its runs, with its health (ctower sources)
SELECT coalesce(s.name, h.source) AS name,
       s.kind,
       s.schedule_seconds,
       coalesce(s.enabled, false) AS enabled,
       coalesce(s.paused, false)  AS paused,
       coalesce(h.status, CASE WHEN s.paused THEN 'paused' ELSE 'never' END) AS status,
       h.last_run_at,
       h.last_success_at,
       coalesce(h.consecutive_failures, 0) AS consecutive_failures,
       h.last_error,
       h.last_event_time,
       :as_of - h.last_event_time AS lag
FROM sources s
FULL JOIN source_health h ON h.source = s.name
ORDER BY 1
