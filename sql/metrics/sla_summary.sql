-- SLA summary (contracts/METRICS.md, "SLA"): one row of counts.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :at_risk_hours (Policies).
-- Only events with time <= :as_of count. Python computes breach_rate from the counts.
WITH
-- orders in the window: sql/migrations/0004_metric_building_blocks.sql
in_window AS (
    SELECT * FROM orders_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                   CAST(:until AS timestamptz))
),
facts AS (
    SELECT w.order_id,
           w.promised_by,
           min(e.time) FILTER (WHERE e.type = 'retail.order.delivered')   AS delivered_at,
           count(e.seq) FILTER (WHERE e.type = 'retail.order.shipped') > 0  AS shipped,
           count(e.seq) FILTER (WHERE e.type = 'retail.order.cancelled') > 0 AS cancelled
      FROM in_window w
      LEFT JOIN events e
             ON e.order_id = w.order_id
            AND e.time <= :as_of
            AND e.type IN ('retail.order.delivered', 'retail.order.shipped', 'retail.order.cancelled')
     GROUP BY w.order_id, w.promised_by
),
judged AS (
    SELECT f.*,
           CASE WHEN f.delivered_at IS NOT NULL THEN f.delivered_at > f.promised_by
                ELSE :as_of > f.promised_by
           END AS breached
      FROM facts f
)
SELECT count(*) FILTER (WHERE NOT cancelled)                          AS orders,
       count(*) FILTER (WHERE delivered_at IS NOT NULL)               AS delivered,
       count(*) FILTER (WHERE cancelled)                              AS cancelled,
       count(*) FILTER (WHERE NOT cancelled AND breached)             AS breached,
       count(*) FILTER (WHERE NOT cancelled
                          AND delivered_at IS NULL
                          AND NOT breached
                          AND NOT shipped
                          AND promised_by - :as_of
                              < CAST(:at_risk_hours AS double precision) * interval '1 hour') AS at_risk
  FROM judged
