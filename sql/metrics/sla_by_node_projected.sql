-- SLA by current node from the projection order_facts: the rows of sla_by_node.sql, exact
-- for any :as_of (projected_order_sla_facts: sql/migrations/0007_projections.sql; an order
-- routed again after :as_of has its node at :as_of read from its events).
WITH
judged AS (
    SELECT f.node, f.breached
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE NOT f.cancelled
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR f.node = :node)
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                            FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT node,
       count(*)                                                    AS orders,
       count(*) FILTER (WHERE breached)                            AS breached,
       CAST(count(*) FILTER (WHERE breached) AS double precision) / count(*) AS breach_rate
  FROM judged
 GROUP BY node
 ORDER BY orders DESC, node
