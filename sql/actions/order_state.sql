-- One order as a reroute shows it: where it is, how far it got, and its created event's
-- lines and ship-to region. :order_id
SELECT f.order_id, f.node, f.node_at, f.routed_at, f.picked_at, f.packed_at, f.shipped_at,
       f.delivered_at, f.cancelled_at, f.last_reroute_at,
       CAST(c.data -> 'lines' AS text) AS lines, c.data ->> 'ship_to_region' AS ship_to_region
  FROM order_facts f
  LEFT JOIN LATERAL (
        SELECT e.data
          FROM events e
         WHERE e.order_id = f.order_id AND e.type = 'retail.order.created'
         ORDER BY e.time, e.seq
         LIMIT 1
  ) c ON true
 WHERE f.order_id = :order_id
