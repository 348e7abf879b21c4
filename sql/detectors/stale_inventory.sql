-- Detector stale_inventory: the positions counted in `stale_positions` (the latest
-- snapshot strictly older than :stale_hours at :as_of). Entity: 'system|location|sku'.
-- Parameters: :as_of, :stale_hours (Policies). A picture at :as_of: the window does not apply.
-- Positions come from positions_at (migration 0004), as in sql/metrics/inventory_summary.sql (tests/test_detectors.py
-- checks the number of rows equals the figure inventory.stale_positions on the same data).
WITH positions AS (  -- positions_at, products_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM positions_at(CAST(:as_of AS timestamptz))
)
SELECT system || '|' || location_id || '|' || sku AS entity,
       system,
       location_id,
       sku,
       snapshot_time,
       CAST(:as_of AS timestamptz) - snapshot_time AS age
  FROM positions
 WHERE CAST(:as_of AS timestamptz) - snapshot_time
       > CAST(:stale_hours AS double precision) * interval '1 hour'
 ORDER BY 1
