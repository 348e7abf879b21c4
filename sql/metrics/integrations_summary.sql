-- Integration health in total (contracts/METRICS.md, "Integration health").
--
-- calls, failures    integration calls with time in [:since, :until) and time <= :as_of;
--                    a failure is status 'error' or 'timeout'.
-- failed_deliveries  (interface, correlation_id) pairs with at least one call in the window
--                    whose latest call at or before :as_of (ties broken by arrival, seq) is
--                    not 'ok'. Calls without a correlation id (absent, null or "") form none.
-- delayed_events     stored events of any type with time in the window (and <= :as_of)
--                    whose received_at - time exceeds :max_event_lag_minutes, strictly.
-- :source (scope)    when set: calls and failed deliveries over the calls whose
--                    data.source_system is :source, delayed events of event source :source.
WITH window_calls AS (
    SELECT data->>'status' AS status
    FROM events
    WHERE type = 'retail.integration.call'
      AND interface IS NOT NULL  -- every call has one: lets the partial index on (interface, time) serve
      AND time >= :since AND time < :until AND time <= :as_of
      AND (CAST(:source AS text) IS NULL OR data->>'source_system' = :source)  -- scope: metrics/scoping.py
)
SELECT
    (SELECT count(*) FROM window_calls) AS calls,
    (SELECT count(*) FROM window_calls WHERE status IN ('error', 'timeout')) AS failures,
    (SELECT count(*)  -- failed_deliveries: sql/migrations/0004_metric_building_blocks.sql
       FROM failed_deliveries(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                              CAST(:until AS timestamptz))
      WHERE CAST(:source AS text) IS NULL)
    + (SELECT count(*)  -- failed_deliveries_of_source: sql/migrations/0013_scope.sql
         FROM failed_deliveries_of_source(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                          CAST(:until AS timestamptz), CAST(:source AS text))
        WHERE CAST(:source AS text) IS NOT NULL) AS failed_deliveries,
    (SELECT count(*)
       FROM events
      WHERE time >= :since AND time < :until AND time <= :as_of
        AND (CAST(:source AS text) IS NULL OR source = :source)
        AND received_at - time
            > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute') AS delayed_events
