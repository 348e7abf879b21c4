-- Available to promise per position: the operational system's quantity (wms/pos first,
-- then the latest) less the active holds. :location_id, :sku (null: every position held).
WITH held AS (
    SELECT location_id, sku, sum(qty) AS held
      FROM holds
     WHERE released_at IS NULL
       AND (CAST(:location_id AS text) IS NULL OR location_id = :location_id)
       AND (CAST(:sku AS text) IS NULL OR sku = :sku)
     GROUP BY location_id, sku
),
pos AS (
    SELECT DISTINCT ON (p.location_id, p.sku) p.location_id, p.sku, p.system, p.quantity
      FROM position_facts p
     WHERE (CAST(:location_id AS text) IS NULL OR p.location_id = :location_id)
       AND (CAST(:sku AS text) IS NULL OR p.sku = :sku)
       AND (CAST(:location_id AS text) IS NOT NULL OR (p.location_id, p.sku) IN (SELECT location_id, sku FROM held))
     ORDER BY p.location_id, p.sku, (p.system IN ('wms', 'pos')) DESC, p.last_event_at DESC
)
SELECT coalesce(p.location_id, h.location_id) AS location_id, coalesce(p.sku, h.sku) AS sku,
       p.system, coalesce(p.quantity, 0) AS quantity, coalesce(h.held, 0) AS held,
       coalesce(p.quantity, 0) - coalesce(h.held, 0) AS atp
  FROM pos p
  FULL JOIN held h ON h.location_id = p.location_id AND h.sku = p.sku
 ORDER BY 1, 2
