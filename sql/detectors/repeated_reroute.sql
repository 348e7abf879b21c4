-- Detector repeated_reroute: the orders counted in the reroutes figure `repeated`
-- (cancelled orders included, as there).
-- Parameters: :as_of, :since, :until (metrics.params.Window), :repeated_reroute_count (Policies).
-- Lists the entities behind the figure reroutes.repeated: the building blocks are shared with
-- sql/metrics/reroutes_summary.sql (migration 0004;
-- tests/test_detectors.py checks the number of rows equals the figure on the same data).
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
SELECT order_id AS entity,
       reroutes,
       cancelled
  FROM per_order
 WHERE reroutes >= :repeated_reroute_count
 ORDER BY order_id
