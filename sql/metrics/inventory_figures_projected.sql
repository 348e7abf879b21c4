-- Inventory variance at :as_of from position_facts and product_facts, when they are the
-- picture at :as_of (metrics/projections.py): the summary AND the three breakdowns in ONE
-- pass over the pairs (metrics.inventory.figures; the Inventory page): the figures of
-- inventory_summary.sql and inventory_breakdown.sql. The pairs are read from
-- inventory_pairs (sql/migrations/0019_inventory_pairs.sql) when it is built for
-- :reference_system (:paired), otherwise joined from position_facts; negative and stale
-- positions as in inventory_summary_projected.sql.
-- Rows: dimension 'all' (one row: the summary, with negative_positions and stale_positions),
-- 'location', 'system' (the pair's other system), 'category' (the sku's; key NULL when
-- unknown): one row per key with at least one pair, each with pairs_compared,
-- out_of_tolerance, variance_units, variance_value. Out of tolerance: |diff| >
-- max(:abs_tolerance_units, :pct_tolerance * |reference|), in exact decimals. Scope
-- (metrics/scoping.py): :node, :region narrow by the position's location.
WITH
in_scope AS (  -- the locations in :region at :as_of (read only when :region is set)
    SELECT l.location_id
      FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l
),
pairs AS (
    SELECT p.location_id, p.system, p.sku, p.other - p.reference AS diff, p.reference
      FROM inventory_pairs p
     WHERE CAST(:paired AS boolean)
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
    UNION ALL
    SELECT o.location_id, o.system, o.sku, o.quantity - r.quantity, r.quantity
      FROM position_facts r
      JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE NOT CAST(:paired AS boolean)
       AND r.system = CAST(:reference_system AS text)
       AND (CAST(:node AS text) IS NULL OR r.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR r.location_id IN (SELECT location_id FROM in_scope))
),
judged AS (
    SELECT p.location_id, p.system, pr.category,
           abs(p.diff) AS gap,
           COALESCE(pr.unit_cost, 0) AS unit_cost,
           abs(p.diff) > CAST(floor(CAST(:abs_tolerance_units AS numeric)) AS bigint)
           AND abs(p.diff) > CAST(:pct_tolerance AS numeric) * abs(p.reference) AS out_of_tolerance
      FROM pairs p
      LEFT JOIN product_facts pr ON pr.sku = p.sku
),
pair_figures AS (
    SELECT CASE WHEN GROUPING(p.location_id) = 0 THEN 'location'
                WHEN GROUPING(p.system) = 0 THEN 'system'
                WHEN GROUPING(p.category) = 0 THEN 'category'
                ELSE 'all'
           END AS dimension,
           CASE WHEN GROUPING(p.location_id) = 0 THEN p.location_id COLLATE "C"
                WHEN GROUPING(p.system) = 0 THEN p.system COLLATE "C"
                ELSE p.category COLLATE "C"
           END AS key,
           count(*) AS pairs_compared,
           count(*) FILTER (WHERE p.out_of_tolerance) AS out_of_tolerance,
           COALESCE(sum(p.gap) FILTER (WHERE p.out_of_tolerance), 0) AS variance_units,
           COALESCE(sum(p.gap * p.unit_cost) FILTER (WHERE p.out_of_tolerance), 0) AS variance_value
      FROM judged p
     GROUP BY GROUPING SETS ((), (p.location_id), (p.system), (p.category))
),
stale_before AS (  -- per location with a node kind (location_kinds_at: sql/migrations/0009_location_kinds.sql)
    SELECT k.location_id,
           CAST(:as_of AS timestamptz)
           - COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                      CAST(:stale_hours AS double precision)) * interval '1 hour' AS before
      FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb)) AS k
),
position_figures AS (  -- no stale hours by node kind: one threshold for every position
    SELECT sum(f.negative_positions) AS negative_positions, sum(f.stale_positions) AS stale_positions
      FROM (SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
                   count(*) FILTER (WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                                    - CAST(:stale_hours AS double precision) * interval '1 hour') AS stale_positions
              FROM position_facts AS p
             WHERE CAST(:stale_hours_by_node_kind AS jsonb) = '{}'
               AND (CAST(:node AS text) IS NULL OR p.location_id = :node)  -- scope: metrics/scoping.py
               AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
            UNION ALL
            SELECT count(*) FILTER (WHERE p.quantity < 0),
                   count(*) FILTER (WHERE p.snapshot_time < COALESCE(k.before, CAST(:as_of AS timestamptz)
                                          - CAST(:stale_hours AS double precision) * interval '1 hour'))
              FROM position_facts AS p
              LEFT JOIN stale_before AS k ON k.location_id = p.location_id
             WHERE CAST(:stale_hours_by_node_kind AS jsonb) <> '{}'
               AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
               AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))) AS f
)
SELECT f.dimension,
       f.key,
       CAST(f.pairs_compared AS bigint) AS pairs_compared,
       CAST(f.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(f.variance_units AS bigint) AS variance_units,
       CAST(f.variance_value AS double precision) AS variance_value,
       CAST(CASE WHEN f.dimension = 'all' THEN po.negative_positions END AS bigint) AS negative_positions,
       CAST(CASE WHEN f.dimension = 'all' THEN po.stale_positions END AS bigint) AS stale_positions
  FROM pair_figures f
 CROSS JOIN position_figures po
 ORDER BY f.dimension, f.key NULLS LAST
