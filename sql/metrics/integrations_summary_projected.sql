-- Integration health in total from the projections (sql/migrations/0007_projections.sql):
-- the figures of integrations_summary.sql.
--
-- :hours_from, :hours_to  the whole UTC hours [from, to) inside the window and <= :as_of
--                    (metrics/projections.py: whole_hours); the window's edges outside them
--                    are [:since, :hours_from) and [max(:hours_from, :hours_to), :until/:as_of].
-- calls, failures    whole hours from interface_calls_hourly, the edges from events.
--                    Exact for any :as_of.
-- failed_deliveries  from delivery_facts when :deliveries_current (no projected call later
--                    than :as_of: each pair's latest call is its latest at :as_of), else from
--                    call_facts (failed_deliveries_from_calls(), migration 0018: the rows of
--                    failed_deliveries(), migration 0004, without reading events).
-- delayed_events     when :lag_rollup (:max_event_lag_minutes a whole number of minutes in
--                    0..1440, given as :lag_bucket): whole hours from event_lag_hourly
--                    (lag_bucket >= :lag_bucket is lag > that many minutes), edges from
--                    events; else from events over the whole window.
-- :source (scope)    when set: the same figures over the calls whose data.source_system is
--                    :source (interface_calls_hourly_by_source; failed deliveries from
--                    call_facts, as failed_deliveries_of_source() would) and the events of
--                    source :source (event_lag_hourly_by_source): sql/migrations/0013_scope.sql.
WITH
edge_events AS (  -- events of the window outside its whole hours
    SELECT e.type, e.interface, e.source, e.data, e.received_at, e.time
      FROM events e
     WHERE e.time >= :since AND e.time < :until AND e.time <= :as_of
       AND e.time < :hours_from
    UNION ALL
    SELECT e.type, e.interface, e.source, e.data, e.received_at, e.time
      FROM events e
     WHERE e.time >= :since AND e.time < :until AND e.time <= :as_of
       AND e.time >= GREATEST(CAST(:hours_from AS timestamptz), CAST(:hours_to AS timestamptz))
),
call_counts AS (
    SELECT sum(c.calls) AS calls, sum(c.failures) AS failures
      FROM interface_calls_hourly c
     WHERE c.hour >= :hours_from AND c.hour < :hours_to
       AND CAST(:source AS text) IS NULL
    UNION ALL
    SELECT sum(c.calls), sum(c.failures)
      FROM interface_calls_hourly_by_source c
     WHERE c.source_system = :source AND c.hour >= :hours_from AND c.hour < :hours_to
    UNION ALL
    SELECT count(*), count(*) FILTER (WHERE data ->> 'status' IN ('error', 'timeout'))
      FROM edge_events
     WHERE type = 'retail.integration.call' AND interface IS NOT NULL
       AND (CAST(:source AS text) IS NULL OR data ->> 'source_system' = :source)
)
SELECT
    (SELECT CAST(COALESCE(sum(calls), 0) AS bigint) FROM call_counts) AS calls,
    (SELECT CAST(COALESCE(sum(failures), 0) AS bigint) FROM call_counts) AS failures,
    (SELECT count(*)
       FROM delivery_facts d
      WHERE CAST(:deliveries_current AS boolean) AND CAST(:source AS text) IS NULL
        AND d.last_status <> 'ok'
        AND d.last_call_at >= :since AND d.last_call_at <= :as_of
        AND (d.last_call_at < :until
             OR EXISTS (SELECT 1 FROM unnest(d.call_times) AS t WHERE t >= :since AND t < :until)))
    + (SELECT count(*)
         FROM failed_deliveries_from_calls(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                           CAST(:until AS timestamptz), CAST(:source AS text))
        WHERE NOT CAST(:deliveries_current AS boolean) OR CAST(:source AS text) IS NOT NULL)
      AS failed_deliveries,
    CASE WHEN CAST(:lag_rollup AS boolean) THEN
        (SELECT COALESCE(sum(l.events), 0)
           FROM event_lag_hourly l
          WHERE l.hour >= :hours_from AND l.hour < :hours_to AND l.lag_bucket >= CAST(:lag_bucket AS integer)
            AND CAST(:source AS text) IS NULL)
        + (SELECT COALESCE(sum(l.events), 0)
             FROM event_lag_hourly_by_source l
            WHERE l.source = :source AND l.hour >= :hours_from AND l.hour < :hours_to
              AND l.lag_bucket >= CAST(:lag_bucket AS integer))
        + (SELECT count(*)
             FROM edge_events
            WHERE received_at - time > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute'
              AND (CAST(:source AS text) IS NULL OR source = :source))
    ELSE
        (SELECT count(*)
           FROM events
          WHERE time >= :since AND time < :until AND time <= :as_of
            AND (CAST(:source AS text) IS NULL OR source = :source)
            AND received_at - time > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute')
    END AS delayed_events
