-- Reroutes by reason AND by from_node in one query, from the projection order_facts: the
-- rows of reroutes_by_reason.sql and reroutes_by_from_node.sql (metrics.reroutes.breakdowns).
-- Parameters as those. The orders of the window (cancelled ones too) and their current node
-- come from projected_order_sla_facts (sql/migrations/0007_projections.sql, exact for any
-- :as_of); the reroutes (time <= :as_of) of those with one, with their reason and from_node,
-- from reroute_facts (sql/migrations/0016_history_facts.sql) by its primary key.
-- Rows: dimension 'reason' or 'from_node', key, reroutes (events), rerouted_orders
-- (distinct orders); each dimension's rows by reroutes, largest first, then key.
WITH
rerouted AS (
    SELECT f.order_id
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE f.reroutes > 0
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR f.node = :node)
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                            FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
),
reroutes AS (
    SELECT r.order_id, r.reason, r.from_node
      FROM rerouted w
      JOIN reroute_facts r
        ON r.order_id = w.order_id
       AND r.time <= :as_of
),
grouped AS (
    SELECT CASE WHEN GROUPING(r.reason) = 0 THEN 'reason' ELSE 'from_node' END AS dimension,
           CASE WHEN GROUPING(r.reason) = 0 THEN r.reason ELSE r.from_node END AS key,
           count(*)                   AS reroutes,
           count(DISTINCT r.order_id) AS rerouted_orders
      FROM reroutes r
     GROUP BY GROUPING SETS ((r.reason), (r.from_node))
)
SELECT dimension, key, reroutes, rerouted_orders
  FROM grouped
 ORDER BY dimension, reroutes DESC, key
