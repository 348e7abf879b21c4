-- Delayed events per source from event_lag_hourly_by_source (sql/migrations/0013_scope.sql):
-- the rows of integrations_delayed_by_source.sql, exact for any :as_of. The whole UTC hours
-- [:hours_from, :hours_to) of the window from the rollup (lag_bucket >= :lag_bucket is a
-- lag over :max_event_lag_minutes, a whole number of minutes), the window's edges from
-- events (metrics/projections.py: whole_hours). :source (scope) keeps that source only.
WITH delayed AS (
    SELECT l.source, sum(l.events) AS n
      FROM event_lag_hourly_by_source l
     WHERE l.hour >= :hours_from AND l.hour < :hours_to AND l.lag_bucket >= CAST(:lag_bucket AS integer)
       AND (CAST(:source AS text) IS NULL OR l.source = :source)
     GROUP BY l.source
    UNION ALL
    SELECT e.source, count(*)  -- the edges: two ranges, each found by the time index
      FROM events e
     WHERE e.time >= :since AND e.time < :until AND e.time <= :as_of AND e.time < :hours_from
       AND (CAST(:source AS text) IS NULL OR e.source = :source)
       AND e.received_at - e.time > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute'
     GROUP BY e.source
    UNION ALL
    SELECT e.source, count(*)
      FROM events e
     WHERE e.time >= :since AND e.time < :until AND e.time <= :as_of
       AND e.time >= GREATEST(CAST(:hours_from AS timestamptz), CAST(:hours_to AS timestamptz))
       AND (CAST(:source AS text) IS NULL OR e.source = :source)
       AND e.received_at - e.time > CAST(:max_event_lag_minutes AS double precision) * interval '1 minute'
     GROUP BY e.source
)
SELECT source, CAST(sum(n) AS bigint) AS delayed_events
  FROM delayed
 GROUP BY source
HAVING sum(n) > 0
 ORDER BY source
