-- Every source known by its configuration or its runs, with its health (as `ctower sources`,
-- sql/collectors/sources_status.sql): the down ones first. lag_minutes: :as_of minus the
-- newest business time read from the source.
SELECT coalesce(s.name, h.source) AS source,
       coalesce(h.status, CASE WHEN s.paused THEN 'paused' ELSE 'never' END) AS status,
       s.kind,
       coalesce(s.enabled, false) AS enabled,
       s.schedule_seconds,
       h.last_run_at,
       h.last_success_at,
       coalesce(h.consecutive_failures, 0) AS consecutive_failures,
       h.last_event_time,
       extract(epoch FROM :as_of - h.last_event_time)::double precision / 60 AS lag_minutes,
       h.last_error
FROM sources s
FULL JOIN source_health h ON h.source = s.name
ORDER BY coalesce(h.status, '') = 'down' DESC, 1
