-- Reroutes summary (contracts/METRICS.md, "Reroutes"): one row of counts.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :repeated_reroute_count (Policies).
-- reroutes, rerouted_orders and repeated count over every order in the window (cancelled
-- ones too: the contract says "orders in the window"); `orders` is the SLA denominator
-- (in the window, not cancelled at :as_of). Python computes rate = rerouted_orders / orders.
WITH
per_order AS (  -- order_reroute_counts: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM order_reroute_counts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                       CAST(:until AS timestamptz))
)
SELECT CAST(coalesce(sum(reroutes), 0) AS bigint)                     AS reroutes,
       count(*) FILTER (WHERE reroutes > 0)                           AS rerouted_orders,
       count(*) FILTER (WHERE reroutes >= :repeated_reroute_count)    AS repeated,
       count(*) FILTER (WHERE NOT cancelled)                          AS orders
  FROM per_order
