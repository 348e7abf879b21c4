-- Detector stale_inventory: the positions counted in `stale_positions` (the latest
-- snapshot strictly older than its stale hours at :as_of). Entity: 'system|location|sku'.
-- Parameters: :as_of, :stale_hours, :stale_hours_by_node_kind (Policies; JSON {node kind:
-- hours}). A position's stale hours: the entry for the kind of its location (the data.kind
-- of the location's latest retail.location.upserted at or before :as_of, ties: the later
-- arrival), else :stale_hours (no override, or no known kind), as in
-- sql/metrics/inventory_summary.sql. A picture at :as_of: the window does not apply.
-- Positions come from positions_at (migration 0004), as in sql/metrics/inventory_summary.sql (tests/test_detectors.py
-- checks the number of rows equals the figure inventory.stale_positions on the same data).
WITH positions AS (  -- positions_at, products_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM positions_at(CAST(:as_of AS timestamptz))
),
node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
judged AS (
    SELECT p.*,
           k.kind AS node_kind,
           COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                    CAST(:stale_hours AS double precision)) AS stale_hours
      FROM positions AS p
      LEFT JOIN node_kinds AS k ON k.location_id = p.location_id
)
SELECT system || '|' || location_id || '|' || sku AS entity,
       system,
       location_id,
       sku,
       snapshot_time,
       CAST(:as_of AS timestamptz) - snapshot_time AS age,
       node_kind,
       stale_hours
  FROM judged
 WHERE CAST(:as_of AS timestamptz) - snapshot_time > stale_hours * interval '1 hour'
 ORDER BY 1
