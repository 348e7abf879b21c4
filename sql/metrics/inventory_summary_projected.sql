-- Inventory variance from position_facts, inventory_pairs and product_facts (sql/migrations/
-- 0007_projections.sql, 0019_inventory_pairs.sql): the figures of inventory_summary.sql. A
-- position's projected quantity is its latest snapshot plus the adjustments after it, over
-- every stored event: the picture at :as_of only when no projected snapshot, adjustment or
-- product upsert is later than :as_of (metrics/projections.py checks their horizons;
-- otherwise inventory_summary_replayed.sql answers).
--
-- pairs      read from inventory_pairs when it is built for :reference_system (:paired);
--            otherwise position_facts joined with itself (the other branch is not run).
-- positions  negative and stale are counted in one scan of position_facts; with stale hours
--            by node kind, each location's stale threshold (:as_of minus its node kind's
--            stale hours) is worked out once per location, not per position.
--
-- The rules are inventory_summary.sql's, written for speed on integer quantities:
-- |diff| > max(:abs_tolerance_units, :pct_tolerance * |reference|) is split into
-- |diff| > floor(:abs_tolerance_units) (|diff| is a whole number) and |diff| > the exact
-- decimal :pct_tolerance * |reference|; stale is snapshot_time < :as_of - its stale hours.
WITH
in_scope AS (  -- the locations in :region at :as_of (read only when :region is set)
    SELECT l.location_id
      FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l
),
pairs AS (
    SELECT p.sku, p.other - p.reference AS diff, p.reference
      FROM inventory_pairs p
     WHERE CAST(:paired AS boolean)
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
    UNION ALL
    SELECT o.sku, o.quantity - r.quantity, r.quantity
      FROM position_facts r
      JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE NOT CAST(:paired AS boolean)
       AND r.system = CAST(:reference_system AS text)
       AND (CAST(:node AS text) IS NULL OR r.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR r.location_id IN (SELECT location_id FROM in_scope))
),
judged AS (
    SELECT p.sku,
           abs(p.diff) AS gap,
           abs(p.diff) > CAST(floor(CAST(:abs_tolerance_units AS numeric)) AS bigint)
           AND abs(p.diff) > CAST(:pct_tolerance AS numeric) * abs(p.reference) AS out_of_tolerance
      FROM pairs p
),
per_sku AS (  -- per sku first: each sku's unit cost then weighs its units once
    SELECT j.sku,
           count(*) AS pairs_compared,
           count(*) FILTER (WHERE j.out_of_tolerance) AS out_of_tolerance,
           sum(j.gap) FILTER (WHERE j.out_of_tolerance) AS variance_units
      FROM judged j
     GROUP BY j.sku
),
pair_figures AS (
    SELECT COALESCE(sum(s.pairs_compared), 0) AS pairs_compared,
           COALESCE(sum(s.out_of_tolerance), 0) AS out_of_tolerance,
           COALESCE(sum(s.variance_units), 0) AS variance_units,
           COALESCE(sum(s.variance_units * COALESCE(pr.unit_cost, 0)), 0) AS variance_value
      FROM per_sku s
      LEFT JOIN product_facts pr ON pr.sku = s.sku
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
SELECT CAST(pf.pairs_compared AS bigint) AS pairs_compared,
       CAST(pf.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(pf.variance_units AS bigint) AS variance_units,
       CAST(pf.variance_value AS double precision) AS variance_value,
       CAST(po.negative_positions AS bigint) AS negative_positions,
       CAST(po.stale_positions AS bigint) AS stale_positions
FROM pair_figures AS pf
CROSS JOIN position_figures AS po
