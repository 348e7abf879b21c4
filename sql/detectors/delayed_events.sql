-- Detector delayed_events: one entity per source with delayed events in the window, the
-- rows of sql/metrics/integrations_delayed_by_source.sql (same definition: stored events
-- with time in [:since, :until) and <= :as_of whose received_at - time exceeds
-- :max_event_lag_minutes, strictly). Their counts add up to integrations `delayed_events`.
SELECT source AS entity,
       count(*) AS delayed_events,
       max(received_at - time) AS worst_lag
FROM events
WHERE time >= :since AND time < :until AND time <= :as_of
  AND received_at - time > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute'
GROUP BY source
ORDER BY source
