-- The position pairs behind an inventory variance figure (contracts/METRICS.md,
-- "Inventory variance"): metrics/drilldown.py. A picture at :as_of; the window does not apply.
-- Parameters: :as_of; :reference_system, :abs_tolerance_units, :pct_tolerance (Policies);
-- :region, :node (metrics.params.Scope: the pair's location is the node, or in the
-- region; channel and source do not narrow positions); :projected (true when position_facts
-- and product_facts are the picture at :as_of: metrics/projections.py; else the positions
-- and products are read from events, as inventory_breakdown.sql does); :paired (true when
-- also inventory_pairs holds the pairs of :reference_system, migration 0019: they are read
-- from it instead of joining the positions); :list, one of
--   'pairs'             every pair compared                    (inventory.pairs_compared)
--   'out_of_tolerance'  |diff| > max(abs, pct * |reference|)   (inventory.out_of_tolerance)
-- :pick_location, :pick_system (the pair's other system), :pick_category ('' = unknown
-- category, the NULL key of inventory_breakdown.sql): the bar picked (NULL: any); :limit.
-- `total` (every row) is the number of pairs before :limit; rows largest |diff| first.
WITH
positions AS (
    SELECT p.system, p.location_id, p.sku, p.snapshot_time, CAST(p.quantity AS numeric) AS quantity
      FROM position_facts p
     WHERE CAST(:projected AS boolean)
    UNION ALL
    SELECT a.system, a.location_id, a.sku, a.snapshot_time, a.quantity
      FROM positions_at(CAST(:as_of AS timestamptz)) a
     WHERE NOT CAST(:projected AS boolean)
),
products AS (
    SELECT pf.sku, pf.unit_cost, pf.category FROM product_facts pf WHERE CAST(:projected AS boolean)
    UNION ALL
    SELECT pa.sku, pa.unit_cost, pa.category FROM products_at(CAST(:as_of AS timestamptz)) pa
     WHERE NOT CAST(:projected AS boolean)
),
paired AS (  -- each reference position with another system's at the same place
    SELECT p.location_id, p.sku, p.system,
           CAST(p.reference AS numeric) AS reference_quantity, CAST(p.other AS numeric) AS quantity,
           p.reference_snapshot_time AS reference_counted_at, p.other_snapshot_time AS counted_at
      FROM inventory_pairs p
     WHERE CAST(:paired AS boolean)
    UNION ALL
    SELECT o.location_id, o.sku, o.system, r.quantity, o.quantity, r.snapshot_time, o.snapshot_time
      FROM positions r
      JOIN positions o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE NOT CAST(:paired AS boolean)
       AND r.system = CAST(:reference_system AS text)
),
pairs AS (
    SELECT p.location_id, p.sku, p.system, p.reference_quantity, p.quantity,
           p.quantity - p.reference_quantity AS diff,
           abs(p.quantity - p.reference_quantity)
               > GREATEST(CAST(:abs_tolerance_units AS numeric),
                          CAST(:pct_tolerance AS numeric) * abs(p.reference_quantity))
               AS out_of_tolerance,
           COALESCE(pr.unit_cost, 0) AS unit_cost, pr.category, p.reference_counted_at, p.counted_at
      FROM paired p
      LEFT JOIN products pr ON pr.sku = p.sku
     WHERE (CAST(:node AS text) IS NULL OR p.location_id = CAST(:node AS text))
       AND (CAST(:region AS text) IS NULL
            OR p.location_id IN (SELECT l.location_id
                                FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) l))
       AND (CAST(:pick_location AS text) IS NULL OR p.location_id = CAST(:pick_location AS text))
       AND (CAST(:pick_system AS text) IS NULL OR p.system = CAST(:pick_system AS text))
       AND (CAST(:pick_category AS text) IS NULL OR COALESCE(pr.category, '') = CAST(:pick_category AS text))
)
SELECT p.sku || '@' || p.location_id AS position,
       p.location_id,
       p.sku,
       p.category,
       p.system,
       CAST(p.reference_quantity AS bigint) AS reference_quantity,
       CAST(p.quantity AS bigint) AS quantity,
       CAST(p.diff AS bigint) AS diff,
       p.out_of_tolerance,
       CAST(abs(p.diff) * p.unit_cost AS double precision) AS value,
       p.reference_counted_at,
       p.counted_at,
       count(*) OVER () AS total
  FROM pairs p
 WHERE CAST(:list AS text) = 'pairs' OR p.out_of_tolerance
 ORDER BY abs(p.diff) DESC, p.location_id, p.sku, p.system
 LIMIT :limit
