-- Reroutes summary (contracts/METRICS.md, "Reroutes"): one row of counts.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :repeated_reroute_count (Policies).
-- reroutes, rerouted_orders and repeated count over every order in the window (cancelled
-- ones too: the contract says "orders in the window"); `orders` is the SLA denominator
-- (in the window, not cancelled at :as_of). Python computes rate = rerouted_orders / orders.
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
