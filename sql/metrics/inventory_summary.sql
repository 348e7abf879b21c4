-- Inventory variance, the summary figures (contracts/METRICS.md, "Inventory variance").
-- A picture at :as_of; the window does not apply. One row.
--
-- positions  positions_at(:as_of): each (system, location_id, sku) with the on_hand of its
--            latest snapshot + later adjustments up to :as_of (migration 0004 says how).
-- products   products_at(:as_of): each sku's latest unit_cost and category.
-- pairs      (location, sku, other system) where :reference_system and the other system both
--            hold a position; diff = other - reference.
-- judged     out of tolerance when |diff| > max(:abs_tolerance_units, :pct_tolerance * |reference|),
--            compared in numeric (exact decimals: 0.05 * 100 is 5, not 5.000000000000001).
--
-- Stale: a position whose snapshot is strictly older than its stale hours at :as_of
-- (:as_of - snapshot time > stale hours; exactly that old is not stale). Its stale hours:
-- the entry of :stale_hours_by_node_kind (JSON {node kind: hours}) for the kind of its
-- location (the data.kind of the location's latest retail.location.upserted at or before
-- :as_of, ties: the later arrival), else :stale_hours (no override, or no known kind).
-- The same rule as sql/detectors/stale_inventory.sql.
WITH positions AS (  -- positions_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM positions_at(CAST(:as_of AS timestamptz)) AS p
     WHERE true
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL
            OR p.location_id IN (SELECT l.location_id
                          FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
),
node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
-- The pair rule of inventory_pairs_at (migration 0004), written against the positions
-- above so they are computed once (the function would compute them again: +0.4 s at 1M
-- events). tests/test_metrics_inventory.py checks the breakdowns, which use the function,
-- add up to these figures.
judged AS (
    SELECT o.sku,
           o.quantity - r.quantity AS diff,
           abs(o.quantity - r.quantity) > GREATEST(CAST(:abs_tolerance_units AS numeric),
                                                   CAST(:pct_tolerance AS numeric) * abs(r.quantity))
               AS out_of_tolerance,
           COALESCE(pr.unit_cost, 0) AS unit_cost
      FROM positions r
      JOIN positions o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
      LEFT JOIN products_at(CAST(:as_of AS timestamptz)) pr ON pr.sku = o.sku
     WHERE r.system = CAST(:reference_system AS text)
),
pair_figures AS (
    SELECT count(*) AS pairs_compared,
           count(*) FILTER (WHERE out_of_tolerance) AS out_of_tolerance,
           COALESCE(sum(abs(diff)) FILTER (WHERE out_of_tolerance), 0) AS variance_units,
           COALESCE(sum(abs(diff) * unit_cost) FILTER (WHERE out_of_tolerance), 0) AS variance_value
    FROM judged
),
position_figures AS (
    SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
           count(*) FILTER (
               WHERE CAST(:as_of AS timestamptz) - p.snapshot_time
                     > COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                                CAST(:stale_hours AS double precision)) * interval '1 hour'
           ) AS stale_positions
    FROM positions AS p
    LEFT JOIN node_kinds AS k ON k.location_id = p.location_id
)
SELECT CAST(pf.pairs_compared AS bigint) AS pairs_compared,
       CAST(pf.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(pf.variance_units AS bigint) AS variance_units,
       CAST(pf.variance_value AS double precision) AS variance_value,
       CAST(po.negative_positions AS bigint) AS negative_positions,
       CAST(po.stale_positions AS bigint) AS stale_positions
FROM pair_figures AS pf
CROSS JOIN position_figures AS po
