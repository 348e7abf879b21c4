-- Inventory variance at an :as_of before some projected event (replay): the summary AND the
-- three breakdowns in ONE pass over the pairs (metrics.inventory.figures), as
-- inventory_figures_projected.sql does at the latest picture, with the positions and
-- products of inventory_summary_replayed.sql:
-- positions  the position_facts rows whose last snapshot or adjustment is <= :as_of are
--            still their picture at :as_of; the others are recomputed from their own counts
--            (position_snapshots, position_adjustments: sql/migrations/0016_history_facts.sql,
--            by primary key): the latest snapshot at or before :as_of (ties: the
--            later arrival) plus that system's adjustments after it up to :as_of.
-- products   the product_facts rows whose latest upsert is <= :as_of (then also the latest
--            at :as_of); each other sku's latest upsert at or before :as_of from
--            product_history.
-- Rows and rules: inventory_figures_projected.sql.
WITH
in_scope AS (  -- the locations in :region at :as_of (read only when :region is set)
    SELECT l.location_id
      FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l
),
positions AS MATERIALIZED (
    SELECT p.system, p.location_id, p.sku, p.snapshot_time, p.quantity
      FROM position_facts p
     WHERE p.last_event_at <= :as_of
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
    UNION ALL
    SELECT p.system, p.location_id, p.sku, s.time, s.on_hand + COALESCE(a.delta, 0)
      FROM position_facts p
     CROSS JOIN LATERAL (
          SELECT h.time, h.on_hand
            FROM position_snapshots h
           WHERE h.location_id = p.location_id AND h.sku = p.sku AND h.system = p.system
             AND h.time <= :as_of
           ORDER BY h.time DESC, h.seq DESC
           LIMIT 1) AS s
      LEFT JOIN LATERAL (
          SELECT CAST(sum(h.delta) AS bigint) AS delta
            FROM position_adjustments h
           WHERE h.location_id = p.location_id AND h.sku = p.sku AND h.system = p.system
             AND h.time > s.time AND h.time <= :as_of) AS a ON true
     WHERE p.last_event_at > :as_of
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
),
products AS (
    SELECT pf.sku, pf.unit_cost, pf.category
      FROM product_facts pf
     WHERE pf.time <= :as_of
    UNION ALL
    SELECT pf.sku, u.unit_cost, u.category
      FROM product_facts pf
     CROSS JOIN LATERAL (
          SELECT h.unit_cost, h.category
            FROM product_history h
           WHERE h.sku = pf.sku AND h.time <= :as_of
           ORDER BY h.time DESC, h.seq DESC
           LIMIT 1) AS u
     WHERE pf.time > :as_of
),
pairs AS (
    SELECT o.location_id, o.system, pr.category,
           abs(o.quantity - r.quantity) AS gap,
           COALESCE(pr.unit_cost, 0) AS unit_cost,
           abs(o.quantity - r.quantity)
               > GREATEST(CAST(:abs_tolerance_units AS numeric), CAST(:pct_tolerance AS numeric) * abs(r.quantity))
               AS out_of_tolerance
      FROM positions r
      JOIN positions o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
      LEFT JOIN products pr ON pr.sku = o.sku
     WHERE r.system = CAST(:reference_system AS text)
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
      FROM pairs p
     GROUP BY GROUPING SETS ((), (p.location_id), (p.system), (p.category))
),
node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
position_figures AS (
    SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
           count(*) FILTER (
               WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                     - COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                                CAST(:stale_hours AS double precision)) * interval '1 hour'
           ) AS stale_positions
      FROM positions AS p
      LEFT JOIN node_kinds AS k ON k.location_id = p.location_id
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
