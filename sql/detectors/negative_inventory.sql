-- Detector negative_inventory: the positions counted in `negative_positions`.
-- Entity: 'system|location|sku'.
-- Parameters: :as_of. A picture at :as_of: the window does not apply.
-- Positions come from positions_at (migration 0004), as in sql/metrics/inventory_summary.sql (tests/test_detectors.py
-- checks the number of rows equals the figure inventory.negative_positions on the same data).
WITH positions AS (  -- positions_at, products_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM positions_at(CAST(:as_of AS timestamptz))
)
SELECT system || '|' || location_id || '|' || sku AS entity,
       system,
       location_id,
       sku,
       quantity,
       snapshot_time
  FROM positions
 WHERE quantity < 0
 ORDER BY 1
