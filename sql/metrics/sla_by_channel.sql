-- SLA by channel (contracts/METRICS.md, "SLA", breakdowns): the channel of the created event.
-- Parameters: :as_of, :since, :until (metrics.params.Window).
-- orders and breached as in sla_summary.sql (in the window, not cancelled at :as_of);
-- breach_rate = breached / orders. Sorted by orders, largest first.
WITH
-- orders in the window: sql/migrations/0004_metric_building_blocks.sql
in_window AS (
    SELECT * FROM orders_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                   CAST(:until AS timestamptz))
),
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
