-- Reroutes by reason (contracts/METRICS.md, "Reroutes", breakdowns).
-- Parameters: :as_of, :since, :until (metrics.params.Window).
-- Over the same events as reroutes_summary.sql: retail.order.rerouted with time <= :as_of
-- of orders in the window (cancelled ones too). reroutes = events, rerouted_orders =
-- distinct orders with at least one such reroute. Sorted by reroutes, largest first.
WITH
-- orders in the window: sql/migrations/0004_metric_building_blocks.sql
in_window AS (
    SELECT * FROM orders_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                   CAST(:until AS timestamptz)) AS f
     WHERE true
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR order_node_at(f.order_id, CAST(:as_of AS timestamptz)) = :node)
       AND (CAST(:region AS text) IS NULL
            OR order_node_at(f.order_id, CAST(:as_of AS timestamptz))
               IN (SELECT l.location_id
                     FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
),
reroutes AS (
    SELECT e.order_id, e.data ->> 'reason' AS reason
      FROM in_window w
      JOIN events e
        ON e.order_id = w.order_id
       AND e.time <= :as_of
       AND e.type = 'retail.order.rerouted'
)
SELECT reason,
       count(*)                 AS reroutes,
       count(DISTINCT order_id) AS rerouted_orders
  FROM reroutes
 GROUP BY reason
 ORDER BY reroutes DESC, reason
