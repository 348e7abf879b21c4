-- Inventory variance at an :as_of before some projected event (replay): the figures of
-- inventory_summary.sql from the projections where they hold at :as_of, and from the history
-- facts (the stock counts and product records by key, sql/migrations/0016_history_facts.sql)
-- only where they do not (sql/migrations/0007_projections.sql; metrics/inventory.py chooses).
--
-- positions  a position_facts row whose last snapshot or adjustment is <= :as_of ("stable")
--            is its picture at :as_of; any other ("changed") is recomputed from its own
--            counts (position_snapshots, position_adjustments by primary key): its latest
--            snapshot at or before :as_of (ties:
--            the later arrival) plus that system's adjustments after it up to :as_of. A
--            position with no snapshot by :as_of holds none.
-- pairs      the pairs of two stable positions are read by joining position_facts with
--            itself in primary-key order (as inventory_summary_projected.sql: no sort, no
--            copy of the positions); only the pairs with a changed side are joined from the
--            changed positions (a changed reference with any other position; a changed
--            other system with a stable reference).
-- products   a product_facts row whose latest upsert is <= :as_of is also the latest at
--            :as_of; any other sku's latest upsert at or before :as_of is read from
--            product_history (by primary key).
-- The rest is inventory_summary.sql's rule, as in inventory_summary_projected.sql.
WITH
in_scope AS (  -- the locations in :region at :as_of (read only when :region is set)
    SELECT l.location_id
      FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l
),
changed_keys AS (  -- the positions changed since :as_of
    SELECT p.location_id, p.sku, p.system
      FROM position_facts p
     WHERE p.last_event_at > :as_of
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
),
latest_snapshots AS (  -- each one's latest snapshot at or before :as_of (ties: the later arrival)
    SELECT DISTINCT ON (h.location_id, h.sku, h.system) h.location_id, h.sku, h.system, h.time, h.on_hand
      FROM changed_keys k
      JOIN position_snapshots h ON h.location_id = k.location_id AND h.sku = k.sku AND h.system = k.system
     WHERE h.time <= :as_of
     ORDER BY h.location_id, h.sku, h.system, h.time DESC, h.seq DESC
),
changed AS MATERIALIZED (  -- the changed positions that hold one at :as_of, recomputed
    SELECT s.system, s.location_id, s.sku, s.time AS snapshot_time,
           s.on_hand + COALESCE(CAST(sum(a.delta) AS bigint), 0) AS quantity
      FROM latest_snapshots s
      LEFT JOIN position_adjustments a
             ON a.location_id = s.location_id AND a.sku = s.sku AND a.system = s.system
            AND a.time > s.time AND a.time <= :as_of
     GROUP BY s.system, s.location_id, s.sku, s.time, s.on_hand
),
stable AS (
    SELECT p.system, p.location_id, p.sku, p.snapshot_time, p.quantity
      FROM position_facts p
     WHERE p.last_event_at <= :as_of
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
),
pairs AS (
    -- both sides stable: position_facts joined with itself
    SELECT o.sku, o.quantity - r.quantity AS diff, r.quantity AS reference
      FROM position_facts r
      JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE r.system = CAST(:reference_system AS text)
       AND r.last_event_at <= :as_of AND o.last_event_at <= :as_of
       AND (CAST(:node AS text) IS NULL OR r.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR r.location_id IN (SELECT location_id FROM in_scope))
    UNION ALL
    -- a changed reference, with a stable other position (by primary key) ...
    SELECT o.sku, o.quantity - r.quantity, r.quantity
      FROM changed r
      JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE r.system = CAST(:reference_system AS text) AND o.last_event_at <= :as_of
    UNION ALL
    -- ... or with a changed one
    SELECT o.sku, o.quantity - r.quantity, r.quantity
      FROM changed r
      JOIN changed o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE r.system = CAST(:reference_system AS text)
    UNION ALL
    -- a changed other system, with a stable reference (by primary key)
    SELECT o.sku, o.quantity - r.quantity, r.quantity
      FROM changed o
      JOIN position_facts r
        ON r.location_id = o.location_id AND r.sku = o.sku AND r.system = CAST(:reference_system AS text)
     WHERE o.system <> CAST(:reference_system AS text) AND r.last_event_at <= :as_of
),
products AS (  -- product_facts rows not upserted since :as_of; the others from product_history
    SELECT pf.sku, pf.unit_cost
      FROM product_facts pf
     WHERE pf.time <= :as_of
    UNION ALL
    SELECT pf.sku, u.unit_cost
      FROM product_facts pf
     CROSS JOIN LATERAL (
          SELECT h.unit_cost
            FROM product_history h
           WHERE h.sku = pf.sku AND h.time <= :as_of
           ORDER BY h.time DESC, h.seq DESC
           LIMIT 1) AS u
     WHERE pf.time > :as_of
),
node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
judged AS (
    SELECT p.sku,
           abs(p.diff) AS gap,
           abs(p.diff) > CAST(floor(CAST(:abs_tolerance_units AS numeric)) AS bigint)
           AND abs(p.diff) > CAST(:pct_tolerance AS numeric) * abs(p.reference) AS out_of_tolerance
      FROM pairs p
),
pair_figures AS (
    SELECT count(*) AS pairs_compared,
           count(*) FILTER (WHERE j.out_of_tolerance) AS out_of_tolerance,
           COALESCE(sum(j.gap) FILTER (WHERE j.out_of_tolerance), 0) AS variance_units,
           COALESCE(sum(j.gap * COALESCE(pr.unit_cost, 0)) FILTER (WHERE j.out_of_tolerance), 0) AS variance_value
      FROM judged j
      LEFT JOIN products pr ON pr.sku = j.sku
),
position_figures AS (
    SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
           count(*) FILTER (
               WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                     - COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                                CAST(:stale_hours AS double precision)) * interval '1 hour'
           ) AS stale_positions
      FROM (SELECT location_id, quantity, snapshot_time FROM stable
            UNION ALL
            SELECT location_id, quantity, snapshot_time FROM changed) AS p
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
