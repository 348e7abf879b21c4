-- The Fulfilment & SLA page's figures in ONE pass over the window's orders
-- (metrics/fulfilment.py; also the projected path of metrics.sla.by_channel, by_node and
-- metrics.reroutes.breakdowns): the figures of orders_summary_projected.sql and the rows
-- of sla_by_channel.sql, sla_by_node.sql, reroutes_by_reason.sql and
-- reroutes_by_from_node.sql, with their rules, from projected_order_sla_facts
-- (sql/migrations/0007_projections.sql: exact for any :as_of; an order's current node at
-- :as_of) and reroute_facts (0016) for the rerouted orders' reroutes, by primary key.
-- Parameters: those of those files (:as_of, :since, :until, :region, :channel, :node,
-- :at_risk_hours, :at_risk_hours_by_channel, :repeated_reroute_count).
-- Rows (each breakdown in the order of its own query): dimension, key, then the columns
-- that dimension uses (the others null):
--   'all'       null       orders (not cancelled), delivered, cancelled, breached, at_risk,
--                          reroutes, rerouted_orders, repeated (these three: cancelled ones too)
--   'channel'   a channel  orders, breached (orders not cancelled)
--   'node'      a node     orders, breached (null key: never routed by :as_of)
--   'reason'    a reason   reroutes, rerouted_orders
--   'from_node' a node     reroutes, rerouted_orders
WITH
judged AS MATERIALIZED (
    SELECT f.order_id, f.channel, f.node, f.cancelled, f.breached, f.reroutes,
           f.delivered_at IS NOT NULL AS delivered,
           NOT f.cancelled
           AND f.delivered_at IS NULL
           AND NOT f.breached
           AND NOT f.shipped
           AND f.promised_by - :as_of
               < COALESCE(CAST(CAST(:at_risk_hours_by_channel AS jsonb) ->> f.channel AS double precision),
                          CAST(:at_risk_hours AS double precision))
                 * interval '1 hour' AS at_risk
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE true
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR f.node = :node)
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                            FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
),
grouped AS (  -- the summaries and both SLA breakdowns: one aggregation, three grouping sets
    SELECT CASE WHEN GROUPING(j.channel) = 0 THEN 'channel'
                WHEN GROUPING(j.node) = 0 THEN 'node'
                ELSE 'all' END                                            AS dimension,
           CASE WHEN GROUPING(j.channel) = 0 THEN j.channel
                WHEN GROUPING(j.node) = 0 THEN j.node END                 AS key,
           count(*) FILTER (WHERE NOT j.cancelled)                        AS orders,
           count(*) FILTER (WHERE NOT j.cancelled AND j.breached)         AS breached,
           count(*) FILTER (WHERE j.delivered)                            AS delivered,
           count(*) FILTER (WHERE j.cancelled)                            AS cancelled,
           count(*) FILTER (WHERE j.at_risk)                              AS at_risk,
           CAST(COALESCE(sum(j.reroutes), 0) AS bigint)                   AS reroutes,
           count(*) FILTER (WHERE j.reroutes > 0)                         AS rerouted_orders,
           count(*) FILTER (WHERE j.reroutes >= :repeated_reroute_count) AS repeated
      FROM judged j
     GROUP BY GROUPING SETS ((), (j.channel), (j.node))
),
moved AS (  -- the rerouted orders' reroutes up to :as_of (reroute_facts, by primary key)
    SELECT CASE WHEN GROUPING(r.reason) = 0 THEN 'reason' ELSE 'from_node' END AS dimension,
           CASE WHEN GROUPING(r.reason) = 0 THEN r.reason ELSE r.from_node END AS key,
           count(*)                   AS reroutes,
           count(DISTINCT r.order_id) AS rerouted_orders
      FROM judged j
      JOIN reroute_facts r ON r.order_id = j.order_id AND r.time <= :as_of
     WHERE j.reroutes > 0
     GROUP BY GROUPING SETS ((r.reason), (r.from_node))
)
SELECT dimension, key, orders, breached, delivered, cancelled, at_risk, reroutes, rerouted_orders, repeated
  FROM (SELECT g.*, row_number() OVER (PARTITION BY g.dimension ORDER BY g.orders DESC, g.key) AS rank
          FROM grouped g
         WHERE g.dimension = 'all' OR g.orders > 0  -- a breakdown's keys: those with orders not cancelled
        UNION ALL
        SELECT m.dimension, m.key, NULL, NULL, NULL, NULL, NULL, m.reroutes, m.rerouted_orders, NULL,
               row_number() OVER (PARTITION BY m.dimension ORDER BY m.reroutes DESC, m.key)
          FROM moved m) AS rows
 ORDER BY dimension, rank  -- each breakdown in its own query's order (largest first, then key)
