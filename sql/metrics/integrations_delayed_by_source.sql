-- Delayed events per source (contracts/METRICS.md, "Integration health"): stored events of
-- any type with time in [:since, :until) and time <= :as_of whose received_at - time
-- exceeds :max_event_lag_minutes, strictly. Sources with no delayed event are left out.
SELECT source,
       count(*) AS delayed_events
FROM events
WHERE time >= :since AND time < :until AND time <= :as_of
  AND (CAST(:source AS text) IS NULL OR source = :source)  -- scope: metrics/scoping.py
  AND received_at - time > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute'
GROUP BY source
ORDER BY source
