-- Detector inventory_variance: the pairs counted in `out_of_tolerance`.
-- Entity: 'location|sku|system' (system: the pair's non-reference system).
-- Parameters: :as_of, :reference_system, :abs_tolerance_units, :pct_tolerance (Policies). A picture at :as_of: the window does not apply.
-- Positions come from positions_at (migration 0004), as in sql/metrics/inventory_summary.sql (tests/test_detectors.py
-- checks the number of rows equals the figure inventory.out_of_tolerance on the same data).
WITH judged AS (  -- inventory_pairs_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM inventory_pairs_at(CAST(:as_of AS timestamptz), CAST(:reference_system AS text),
                              CAST(:abs_tolerance_units AS numeric), CAST(:pct_tolerance AS numeric))
)
SELECT location_id || '|' || sku || '|' || system AS entity,
       location_id,
       sku,
       system,
       reference_quantity,
       reference_quantity + diff AS quantity,
       diff,
       abs(diff) * unit_cost AS variance_value
  FROM judged
 WHERE out_of_tolerance
 ORDER BY 1
