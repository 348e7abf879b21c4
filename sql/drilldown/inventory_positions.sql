-- The positions behind inventory.negative_positions or inventory.stale_positions
-- (contracts/METRICS.md, "Inventory variance"): metrics/drilldown.py. A picture at :as_of.
-- Parameters: :as_of; :stale_hours and :stale_hours_by_node_kind (Policies, as
-- inventory_summary_projected.sql: a location's kind's own value where it has one);
-- :region, :node (metrics.params.Scope, as inventory_pairs.sql); :projected (as
-- inventory_pairs.sql); :list, one of
--   'negative'  quantity below 0
--   'stale'     latest snapshot older than its stale hours (strict)
-- :pick_location, :pick_system (NULL: any); :limit. `total` (every row) is the number of
-- positions before :limit. Each row has the reference system's quantity at the same
-- location and sku when it holds one (:reference_system).
WITH
node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
positions AS (
    SELECT p.system, p.location_id, p.sku, p.snapshot_time, CAST(p.quantity AS numeric) AS quantity
      FROM position_facts p
     WHERE CAST(:projected AS boolean)
    UNION ALL
    SELECT a.system, a.location_id, a.sku, a.snapshot_time, a.quantity
      FROM positions_at(CAST(:as_of AS timestamptz)) a
     WHERE NOT CAST(:projected AS boolean)
),
judged AS (
    SELECT p.*,
           COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                    CAST(:stale_hours AS double precision)) AS stale_hours
      FROM positions p
      LEFT JOIN node_kinds k ON k.location_id = p.location_id
     WHERE (CAST(:node AS text) IS NULL OR p.location_id = CAST(:node AS text))
       AND (CAST(:region AS text) IS NULL
            OR p.location_id IN (SELECT l.location_id
                                FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) l))
       AND (CAST(:pick_location AS text) IS NULL OR p.location_id = CAST(:pick_location AS text))
       AND (CAST(:pick_system AS text) IS NULL OR p.system = CAST(:pick_system AS text))
),
listed AS (
    SELECT j.*
      FROM judged j
     WHERE CASE CAST(:list AS text)
               WHEN 'negative' THEN j.quantity < 0
               WHEN 'stale' THEN j.snapshot_time < CAST(:as_of AS timestamptz) - j.stale_hours * interval '1 hour'
           END
),
top AS (  -- the first :limit, counted before the limit; the reference quantity after it
    SELECT l.*, count(*) OVER () AS total
      FROM listed l
     ORDER BY CASE CAST(:list AS text) WHEN 'negative' THEN l.quantity END,
              l.snapshot_time, l.location_id, l.sku, l.system
     LIMIT :limit
)
SELECT l.sku || '@' || l.location_id AS position,
       l.location_id,
       l.sku,
       l.system,
       CAST(l.quantity AS bigint) AS quantity,
       CAST(r.quantity AS bigint) AS reference_quantity,
       l.snapshot_time AS counted_at,
       CAST(extract(epoch FROM CAST(:as_of AS timestamptz) - l.snapshot_time) / 3600 AS double precision)
           AS age_hours,
       l.total
  FROM top l
  LEFT JOIN positions r
         ON r.location_id = l.location_id AND r.sku = l.sku AND r.system = CAST(:reference_system AS text)
 ORDER BY CASE CAST(:list AS text) WHEN 'negative' THEN l.quantity END,
          l.snapshot_time, l.location_id, l.sku, l.system
