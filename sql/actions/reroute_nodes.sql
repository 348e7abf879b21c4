-- The nodes an order could go to, with what a reroute checks: active (its latest
-- retail.location.upserted has no active=false / status closed), stock for each line by
-- the latest position (the operational system's wms/pos first, then the latest event) less
-- the active holds, and load (orders routed there and not yet shipped, delivered or
-- cancelled) against daily_capacity. :skus text[], :qtys int[] (the order's lines),
-- :location_id (one node, or null for all).
WITH need AS (
    SELECT n.sku, sum(n.qty) AS qty
      FROM unnest(CAST(:skus AS text[]), CAST(:qtys AS int[])) AS n (sku, qty)
     GROUP BY n.sku
),
latest AS (
    SELECT DISTINCT ON (h.location_id) h.location_id, h.time, h.seq, h.region, h.kind
      FROM location_history h
     WHERE CAST(:location_id AS text) IS NULL OR h.location_id = :location_id
     ORDER BY h.location_id, h.time DESC, h.seq DESC
),
loc AS (
    SELECT l.location_id, l.region, l.kind,
           CAST(e.data ->> 'daily_capacity' AS numeric) AS daily_capacity,
           coalesce(e.data ->> 'active', 'true') <> 'false'
               AND coalesce(e.data ->> 'status', 'active') NOT IN ('closed', 'inactive') AS active
      FROM latest l
      JOIN events e ON e.time = l.time AND e.seq = l.seq
),
pos AS (
    SELECT DISTINCT ON (p.location_id, p.sku) p.location_id, p.sku, p.quantity
      FROM position_facts p
      JOIN need n ON n.sku = p.sku
     WHERE CAST(:location_id AS text) IS NULL OR p.location_id = :location_id
     ORDER BY p.location_id, p.sku, (p.system IN ('wms', 'pos')) DESC, p.last_event_at DESC
),
held AS (
    SELECT location_id, sku, sum(qty) AS held
      FROM holds
     WHERE released_at IS NULL
     GROUP BY location_id, sku
),
stock AS (
    SELECT l.location_id,
           count(*) FILTER (WHERE coalesce(p.quantity, 0) - coalesce(h.held, 0) >= n.qty) AS lines_in_stock,
           count(*) AS lines,
           sum(greatest(n.qty - greatest(coalesce(p.quantity, 0) - coalesce(h.held, 0), 0), 0)) AS units_short
      FROM loc l
     CROSS JOIN need n
      LEFT JOIN pos p ON p.location_id = l.location_id AND p.sku = n.sku
      LEFT JOIN held h ON h.location_id = l.location_id AND h.sku = n.sku
     GROUP BY l.location_id
),
load AS (
    SELECT node, count(*) AS routed
      FROM order_facts
     WHERE node IS NOT NULL AND shipped_at IS NULL AND delivered_at IS NULL AND cancelled_at IS NULL
       AND (CAST(:location_id AS text) IS NULL OR node = :location_id)
     GROUP BY node
)
SELECT l.location_id, l.kind, l.region, l.active, l.daily_capacity,
       coalesce(ld.routed, 0) AS routed,
       coalesce(s.lines_in_stock, 0) AS lines_in_stock, coalesce(s.lines, 0) AS lines,
       coalesce(s.units_short, 0) AS units_short
  FROM loc l
  LEFT JOIN stock s ON s.location_id = l.location_id
  LEFT JOIN load ld ON ld.node = l.location_id
 ORDER BY l.location_id
