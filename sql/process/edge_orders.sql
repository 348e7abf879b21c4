-- The orders that made one edge of the directly-follows graph (:edge, its code: from * 10 +
-- to, metrics/process.py), longest wait first, at most :limit, with the exact count of
-- orders (total). An order that made the edge more than once is one row: its transitions
-- and its longest wait; node: the least of where its steps into the edge happened (else its
-- current node). From the process projection (migration 0017).
SELECT e.order_id, e.created_at, f.channel,
       CASE WHEN e.unplaced THEN LEAST(e.node, f.node) ELSE e.node END AS node,
       e.transitions, e.wait_hours, e.total
  FROM (SELECT o.order_id, min(o.created_at) AS created_at, count(*) AS transitions,
               max(u.wait) AS wait_hours, min(u.node) AS node, bool_or(u.node IS NULL) AS unplaced,
               count(*) OVER () AS total
          FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz),
                              CAST(:region AS text), CAST(:channel AS text), CAST(:node AS text),
                              CAST(:source AS text)) o
         CROSS JOIN LATERAL unnest(o.edges, o.waits, o.nodes) AS u(code, wait, node)
         WHERE u.code = CAST(:edge AS smallint)
         GROUP BY o.order_id
         ORDER BY wait_hours DESC, o.order_id
         LIMIT :limit) AS e
  LEFT JOIN order_facts f ON f.order_id = e.order_id
 ORDER BY e.wait_hours DESC, e.order_id
