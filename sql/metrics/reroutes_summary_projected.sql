-- Reroutes summary from the projection order_facts: the figures of reroutes_summary.sql,
-- exact for any :as_of (projected_order_sla_facts: sql/migrations/0007_projections.sql).
-- Parameters as reroutes_summary.sql.
WITH
per_order AS (
    SELECT reroutes, cancelled
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz))
)
SELECT CAST(coalesce(sum(reroutes), 0) AS bigint)                     AS reroutes,
       count(*) FILTER (WHERE reroutes > 0)                           AS rerouted_orders,
       count(*) FILTER (WHERE reroutes >= :repeated_reroute_count)    AS repeated,
       count(*) FILTER (WHERE NOT cancelled)                          AS orders
  FROM per_order
