-- Reroutes by reason (contracts/METRICS.md, "Reroutes", breakdowns).
-- Parameters: :as_of, :since, :until (metrics.params.Window).
-- Over the same events as reroutes_summary.sql: retail.order.rerouted with time <= :as_of
-- of orders in the window (cancelled ones too). reroutes = events, rerouted_orders =
-- distinct orders with at least one such reroute. Sorted by reroutes, largest first.
WITH
-- >>> orders in the window (identical in every sql/metrics/sla_*.sql and reroutes_*.sql;
--     tests/test_metrics_reroutes.py checks they stay identical)
-- An order's created_at is the time of its earliest retail.order.created (time, then
-- arrival order); it is in the window when created_at is in [:since, :until). Only
-- created events inside the window are read (partitions and BRIN narrow the scan); an
-- earlier created event of the same order before :since takes the order out.
created AS (
    SELECT DISTINCT ON (c.order_id)
           c.order_id,
           c.time                                   AS created_at,
           (c.data ->> 'promised_by')::timestamptz  AS promised_by,
           c.data ->> 'channel'                     AS channel
      FROM events c
     WHERE c.type = 'retail.order.created'
       AND c.order_id IS NOT NULL
       AND c.time <= :as_of
       AND c.time >= :since
       AND c.time < :until
     ORDER BY c.order_id, c.time, c.seq
),
in_window AS (
    SELECT w.*
      FROM created w
     WHERE NOT EXISTS (
               SELECT 1
                 FROM events p
                WHERE p.order_id = w.order_id
                  AND p.type = 'retail.order.created'
                  AND p.time < :since
                  AND p.time <= :as_of)
),
-- <<< orders in the window
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
