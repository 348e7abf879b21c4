-- SLA by channel (contracts/METRICS.md, "SLA", breakdowns): the channel of the created event.
-- Parameters: :as_of, :since, :until (metrics.params.Window).
-- orders and breached as in sla_summary.sql (in the window, not cancelled at :as_of);
-- breach_rate = breached / orders. Sorted by orders, largest first.
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
facts AS (
    SELECT w.channel AS channel,
           w.promised_by,
           min(e.time) FILTER (WHERE e.type = 'retail.order.delivered')   AS delivered_at,
           count(e.seq) FILTER (WHERE e.type = 'retail.order.cancelled') > 0 AS cancelled
      FROM in_window w
      LEFT JOIN events e
             ON e.order_id = w.order_id
            AND e.time <= :as_of
            AND e.type IN ('retail.order.delivered', 'retail.order.cancelled')
     GROUP BY w.order_id, w.promised_by, w.channel
),
judged AS (
    SELECT f.channel,
           CASE WHEN f.delivered_at IS NOT NULL THEN f.delivered_at > f.promised_by
                ELSE :as_of > f.promised_by
           END AS breached
      FROM facts f
     WHERE NOT f.cancelled
)
SELECT channel,
       count(*)                                                    AS orders,
       count(*) FILTER (WHERE breached)                            AS breached,
       CAST(count(*) FILTER (WHERE breached) AS double precision) / count(*) AS breach_rate
  FROM judged
 GROUP BY channel
 ORDER BY orders DESC, channel
