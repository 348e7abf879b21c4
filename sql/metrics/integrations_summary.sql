-- Integration health in total (contracts/METRICS.md, "Integration health").
--
-- calls, failures    integration calls with time in [:since, :until) and time <= :as_of;
--                    a failure is status 'error' or 'timeout'.
-- failed_deliveries  (interface, correlation_id) pairs with at least one call in the window
--                    whose latest call at or before :as_of (ties broken by arrival, seq) is
--                    not 'ok'. Calls without a correlation id (absent, null or "") form none.
-- delayed_events     stored events of any type with time in the window (and <= :as_of)
--                    whose received_at - time exceeds :max_event_lag_minutes, strictly.
WITH known_calls AS (
    SELECT interface,
           NULLIF(data->>'correlation_id', '') AS correlation_id,
           data->>'status' AS status,
           time,
           seq
    FROM events
    WHERE type = 'retail.integration.call'
      AND time <= :as_of
),
window_calls AS (
    SELECT * FROM known_calls WHERE time >= :since AND time < :until
),
-- a pair with a call in the window has its latest call at or after :since, so earlier
-- calls need not be read
latest_per_delivery AS (
    SELECT DISTINCT ON (interface, correlation_id) interface, correlation_id, status
    FROM known_calls
    WHERE correlation_id IS NOT NULL
      AND time >= :since
    ORDER BY interface, correlation_id, time DESC, seq DESC
)
SELECT
    (SELECT count(*) FROM window_calls) AS calls,
    (SELECT count(*) FROM window_calls WHERE status IN ('error', 'timeout')) AS failures,
    (SELECT count(*)
       FROM latest_per_delivery AS l
      WHERE l.status <> 'ok'
        AND EXISTS (SELECT 1
                      FROM window_calls AS w
                     WHERE w.interface = l.interface
                       AND w.correlation_id = l.correlation_id)) AS failed_deliveries,
    (SELECT count(*)
       FROM events
      WHERE time >= :since AND time < :until AND time <= :as_of
        AND received_at - time
            > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute') AS delayed_events
