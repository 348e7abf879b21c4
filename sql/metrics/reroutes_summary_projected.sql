-- Reroutes summary from the projection order_facts: the figures of reroutes_summary.sql,
-- exact for any :as_of (projected_order_sla_facts: sql/migrations/0007_projections.sql).
-- Parameters as reroutes_summary.sql.
WITH
per_order AS (
    SELECT f.reroutes, f.cancelled
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE true
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR f.node = :node)
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                            FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT CAST(coalesce(sum(reroutes), 0) AS bigint)                     AS reroutes,
       count(*) FILTER (WHERE reroutes > 0)                           AS rerouted_orders,
       count(*) FILTER (WHERE reroutes >= :repeated_reroute_count)    AS repeated,
       count(*) FILTER (WHERE NOT cancelled)                          AS orders
  FROM per_order
