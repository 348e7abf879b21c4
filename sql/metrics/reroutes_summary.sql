-- Reroutes summary (contracts/METRICS.md, "Reroutes"): one row of counts.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :repeated_reroute_count (Policies).
-- reroutes, rerouted_orders and repeated count over every order in the window (cancelled
-- ones too: the contract says "orders in the window"); `orders` is the SLA denominator
-- (in the window, not cancelled at :as_of). Python computes rate = rerouted_orders / orders.
WITH
per_order AS (  -- order_reroute_counts: sql/migrations/0004_metric_building_blocks.sql
    SELECT f.* FROM order_reroute_counts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                         CAST(:until AS timestamptz)) AS f
     WHERE (CAST(:channel AS text) IS NULL  -- scope: metrics/scoping.py
            OR f.order_id IN (SELECT w.order_id
                                FROM orders_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                                      CAST(:until AS timestamptz)) AS w
                               WHERE w.channel = :channel))
       AND (CAST(:node AS text) IS NULL OR order_node_at(f.order_id, CAST(:as_of AS timestamptz)) = :node)
       AND (CAST(:region AS text) IS NULL
            OR order_node_at(f.order_id, CAST(:as_of AS timestamptz))
               IN (SELECT l.location_id
                     FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT CAST(coalesce(sum(reroutes), 0) AS bigint)                     AS reroutes,
       count(*) FILTER (WHERE reroutes > 0)                           AS rerouted_orders,
       count(*) FILTER (WHERE reroutes >= :repeated_reroute_count)    AS repeated,
       count(*) FILTER (WHERE NOT cancelled)                          AS orders
  FROM per_order
