-- The orders behind an SLA figure (contracts/METRICS.md, "SLA"): metrics/drilldown.py.
-- Parameters: :as_of, :since, :until (metrics.params.Window); :at_risk_hours and
-- :at_risk_hours_by_channel (Policies, as orders_summary_projected.sql); :region, :channel,
-- :node (metrics.params.Scope; its source does not narrow orders); :list, one of
--   'orders'    in the window, not cancelled at :as_of            (figure sla.orders)
--   'breached'  of those, breached                                (sla.breached)
--   'at_risk'   of those, not delivered, not breached, not shipped, due within the
--               channel's at_risk_hours                           (sla.at_risk)
-- :pick_channel, :pick_node: the bar picked in a breakdown (NULL: any; a node of '' is
-- "never routed by :as_of", the NULL node of sla_by_node); :limit rows.
-- Read from the projection order_facts like sql/metrics/sla_*_projected.sql, so the count
-- equals the figure: `total` (every row) is the number of orders before :limit.
-- A node's region: locations_in_region (sql/migrations/0013_scope.sql), as the figures read it.
WITH
judged AS (
    SELECT f.*,
           COALESCE(CAST(CAST(:at_risk_hours_by_channel AS jsonb) ->> f.channel AS double precision),
                    CAST(:at_risk_hours AS double precision)) AS at_risk_hours
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE NOT f.cancelled
       AND (CAST(:channel AS text) IS NULL OR f.channel = CAST(:channel AS text))
       AND (CAST(:node AS text) IS NULL OR f.node = CAST(:node AS text))
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                         FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) l))
       AND (CAST(:pick_channel AS text) IS NULL OR f.channel = CAST(:pick_channel AS text))
       AND (CAST(:pick_node AS text) IS NULL OR COALESCE(f.node, '') = CAST(:pick_node AS text))
),
listed AS (
    SELECT j.*
      FROM judged j
     WHERE CASE CAST(:list AS text)
               WHEN 'orders' THEN true
               WHEN 'breached' THEN j.breached
               WHEN 'at_risk' THEN j.delivered_at IS NULL AND NOT j.breached AND NOT j.shipped
                                   AND j.promised_by - CAST(:as_of AS timestamptz)
                                       < j.at_risk_hours * interval '1 hour'
           END
)
SELECT l.order_id,
       l.channel,
       l.node,
       l.created_at,
       l.promised_by,
       l.delivered_at,
       CASE WHEN l.delivered_at IS NOT NULL THEN 'delivered'
            WHEN l.shipped THEN 'shipped'
            WHEN l.node IS NOT NULL THEN 'routed'
            ELSE 'created'
       END AS status,
       -- hours past the promise: at delivery, or at :as_of when not delivered (negative: time left)
       CAST(extract(epoch FROM COALESCE(l.delivered_at, CAST(:as_of AS timestamptz)) - l.promised_by) / 3600
            AS double precision) AS late_hours,
       l.reroutes,
       count(*) OVER () AS total
  FROM listed l
 ORDER BY late_hours DESC, l.order_id
 LIMIT :limit
