-- Inventory variance from position_facts and product_facts (sql/migrations/0007_projections.sql):
-- the figures of inventory_summary.sql. A position's projected quantity is its latest
-- snapshot plus the adjustments after it, over every stored event: the picture at :as_of
-- only when no projected snapshot, adjustment or product upsert is later than :as_of
-- (metrics/projections.py checks their horizons; otherwise inventory_summary.sql answers).
--
-- The rules are inventory_summary.sql's, written for speed on integer quantities:
-- |diff| > max(:abs_tolerance_units, :pct_tolerance * |reference|) is split into
-- |diff| > floor(:abs_tolerance_units) (|diff| is a whole number) and |diff| > the exact
-- decimal :pct_tolerance * |reference|; stale is snapshot_time < :as_of - its stale hours.
WITH node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
judged AS (
    SELECT o.sku,
           abs(o.quantity - r.quantity) AS gap,
           abs(o.quantity - r.quantity) > CAST(floor(CAST(:abs_tolerance_units AS numeric)) AS bigint)
           AND abs(o.quantity - r.quantity) > CAST(:pct_tolerance AS numeric) * abs(r.quantity) AS out_of_tolerance
      FROM position_facts r
      JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE r.system = CAST(:reference_system AS text)
       AND (CAST(:node AS text) IS NULL OR r.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL
            OR r.location_id IN (SELECT l.location_id
                          FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
),
pair_figures AS (
    SELECT count(*) AS pairs_compared,
           count(*) FILTER (WHERE j.out_of_tolerance) AS out_of_tolerance,
           COALESCE(sum(j.gap) FILTER (WHERE j.out_of_tolerance), 0) AS variance_units,
           COALESCE(sum(j.gap * COALESCE(pr.unit_cost, 0)) FILTER (WHERE j.out_of_tolerance), 0) AS variance_value
      FROM judged j
      LEFT JOIN product_facts pr ON pr.sku = j.sku
),
position_figures AS (
    SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
           count(*) FILTER (
               WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                     - COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                                CAST(:stale_hours AS double precision)) * interval '1 hour'
           ) AS stale_positions
      FROM position_facts AS p
      LEFT JOIN node_kinds AS k ON k.location_id = p.location_id
     WHERE true
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL
            OR p.location_id IN (SELECT l.location_id
                          FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT CAST(pf.pairs_compared AS bigint) AS pairs_compared,
       CAST(pf.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(pf.variance_units AS bigint) AS variance_units,
       CAST(pf.variance_value AS double precision) AS variance_value,
       CAST(po.negative_positions AS bigint) AS negative_positions,
       CAST(po.stale_positions AS bigint) AS stale_positions
FROM pair_figures AS pf
CROSS JOIN position_figures AS po
