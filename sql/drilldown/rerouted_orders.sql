-- The orders behind a reroute figure (contracts/METRICS.md, "Reroutes"): metrics/drilldown.py.
-- Parameters: :as_of, :since, :until (metrics.params.Window); :repeated_reroute_count
-- (Policies); :region, :channel, :node (metrics.params.Scope; its source does not
-- narrow orders); :list, one of
--   'rerouted'  orders in the window (cancelled ones too) with at least one
--               retail.order.rerouted at or before :as_of       (reroutes.rerouted_orders)
--   'repeated'  with repeated_reroute_count or more               (reroutes.repeated)
-- :pick_reason, :pick_from_node: the bar picked in reroutes_by_reason.sql /
-- reroutes_by_from_node.sql (NULL: any): the order has a reroute at or before :as_of with
-- that reason / from_node, so the count is that bar's rerouted_orders. :limit rows.
-- Orders from the projection order_facts (orders_summary_projected.sql); a picked reason
-- or from_node is looked up in the order's own events (index events_order). `total` (every
-- row) is the number of orders before :limit. Region: as sla_orders.sql.
WITH
listed AS (
    SELECT f.*
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE f.reroutes >= CASE CAST(:list AS text) WHEN 'rerouted' THEN 1
                                                  WHEN 'repeated' THEN CAST(:repeated_reroute_count AS bigint)
                         END
       AND (CAST(:channel AS text) IS NULL OR f.channel = CAST(:channel AS text))
       AND (CAST(:node AS text) IS NULL OR f.node = CAST(:node AS text))
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                         FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) l))
       AND (CAST(:pick_reason AS text) IS NULL AND CAST(:pick_from_node AS text) IS NULL
            OR EXISTS (SELECT 1
                         FROM events e
                        WHERE e.order_id = f.order_id
                          AND e.time <= CAST(:as_of AS timestamptz)
                          AND e.type = 'retail.order.rerouted'
                          AND (CAST(:pick_reason AS text) IS NULL
                               OR e.data ->> 'reason' = CAST(:pick_reason AS text))
                          AND (CAST(:pick_from_node AS text) IS NULL
                               OR e.data ->> 'from_node' = CAST(:pick_from_node AS text))))
),
chosen AS (
    SELECT l.order_id, l.channel, l.node, l.created_at, l.promised_by, l.delivered_at, l.shipped,
           l.cancelled, l.breached, l.reroutes,
           CAST(extract(epoch FROM COALESCE(l.delivered_at, CAST(:as_of AS timestamptz)) - l.promised_by) / 3600
                AS double precision) AS late_hours,
           count(*) OVER () AS total
      FROM listed l
     ORDER BY l.reroutes DESC, l.order_id
     LIMIT :limit
)
SELECT c.order_id,
       c.channel,
       c.node,
       c.created_at,
       c.promised_by,
       c.delivered_at,
       CASE WHEN c.cancelled THEN 'cancelled'
            WHEN c.delivered_at IS NOT NULL THEN 'delivered'
            WHEN c.shipped THEN 'shipped'
            WHEN c.node IS NOT NULL THEN 'routed'
            ELSE 'created'
       END AS status,
       c.late_hours,
       c.reroutes,
       p.path AS reroute_path,
       c.total
  FROM chosen c
  LEFT JOIN LATERAL (  -- the order's reroutes at or before :as_of, oldest first
      SELECT string_agg(concat(e.data ->> 'from_node', ' → ', e.data ->> 'to_node', ' (', e.data ->> 'reason', ')'),
                        ', ' ORDER BY e.time, e.seq) AS path
        FROM events e
       WHERE e.order_id = c.order_id
         AND e.time <= CAST(:as_of AS timestamptz)
         AND e.type = 'retail.order.rerouted'
  ) AS p ON true
 ORDER BY c.reroutes DESC, c.order_id
