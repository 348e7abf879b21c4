-- Reroutes summary (contracts/METRICS.md, "Reroutes"): one row of counts.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :repeated_reroute_count (Policies).
-- reroutes, rerouted_orders and repeated count over every order in the window (cancelled
-- ones too: the contract says "orders in the window"); `orders` is the SLA denominator
-- (in the window, not cancelled at :as_of). Python computes rate = rerouted_orders / orders.
WITH
-- orders in the window: sql/migrations/0004_metric_building_blocks.sql
in_window AS (
    SELECT * FROM orders_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                   CAST(:until AS timestamptz))
),
per_order AS (
    SELECT w.order_id,
           count(e.seq) FILTER (WHERE e.type = 'retail.order.rerouted')      AS reroutes,
           count(e.seq) FILTER (WHERE e.type = 'retail.order.cancelled') > 0 AS cancelled
      FROM in_window w
      LEFT JOIN events e
             ON e.order_id = w.order_id
            AND e.time <= :as_of
            AND e.type IN ('retail.order.rerouted', 'retail.order.cancelled')
     GROUP BY w.order_id
)
SELECT CAST(coalesce(sum(reroutes), 0) AS bigint)                     AS reroutes,
       count(*) FILTER (WHERE reroutes > 0)                           AS rerouted_orders,
       count(*) FILTER (WHERE reroutes >= :repeated_reroute_count)    AS repeated,
       count(*) FILTER (WHERE NOT cancelled)                          AS orders
  FROM per_order
