-- Inventory variance at an :as_of before some projected event (replay): the figures of
-- inventory_summary.sql from the projections where they hold at :as_of, and from the history
-- facts (the stock counts and product records by key, sql/migrations/0016_history_facts.sql,
-- 0019_inventory_pairs.sql) only where they do not (metrics/inventory.py chooses).
--
-- positions  a position_facts row whose latest snapshot is at or before :as_of was also the
--            latest then: its quantity at :as_of is its quantity, minus its adjustments
--            after :as_of when it changed since (last_event_at > :as_of; all of them are
--            after that snapshot; "adjusted_after", "changes"). Any other position's latest
--            snapshot at or before :as_of is the predecessor (prev_*) of its first snapshot
--            after :as_of (ties: the later arrival), read by a range scan of the snapshots
--            after :as_of ("recounted"), plus that system's adjustments after it up to
--            :as_of (summed by primary key for the positions that have any); a position
--            whose first snapshot is after :as_of holds none.
-- pairs      from inventory_pairs when it is built for :reference_system (:paired): a pair
--            whose two positions are unchanged since :as_of is its picture at :as_of; in any
--            other, a changed side is replaced by its quantity at :as_of as above, and the
--            pair is left out when a side held no position then. Otherwise the positions at
--            :as_of are joined with themselves (the other branch is not run).
-- products   a product_facts row whose latest upsert is <= :as_of is also the latest at
--            :as_of; any other sku's latest upsert at or before :as_of is read from
--            product_history (by primary key).
-- The rest is inventory_summary.sql's rule, as in inventory_summary_projected.sql.
WITH
in_scope AS (  -- the locations in :region at :as_of (read only when :region is set)
    SELECT l.location_id
      FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l
),
first_after AS MATERIALIZED (  -- each position's first snapshot after :as_of, when it had one before
    SELECT s.system, s.location_id, s.sku, s.prev_time, s.prev_on_hand
      FROM position_snapshots s
     WHERE s.time > :as_of AND s.prev_time <= :as_of
       AND (CAST(:node AS text) IS NULL OR s.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL OR s.location_id IN (SELECT location_id FROM in_scope))
),
adjusted_after AS MATERIALIZED (  -- per position, the sum of its adjustments after :as_of
    SELECT a.location_id, a.sku, a.system, CAST(sum(a.delta) AS bigint) AS delta
      FROM position_adjustments a
     WHERE a.time > :as_of
       AND (CAST(:node AS text) IS NULL OR a.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR a.location_id IN (SELECT location_id FROM in_scope))
     GROUP BY a.location_id, a.sku, a.system
),
adjusted_keys AS (  -- the positions with an adjustment at or before :as_of (hashed once)
    SELECT DISTINCT a.location_id, a.sku, a.system
      FROM position_adjustments a
     WHERE a.time <= :as_of
       AND (CAST(:node AS text) IS NULL OR a.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR a.location_id IN (SELECT location_id FROM in_scope))
),
recounted AS MATERIALIZED (  -- their quantity at :as_of: adjustments summed by primary key, only
                             -- for the positions that have some
    SELECT f.system, f.location_id, f.sku, f.prev_time AS snapshot_time,
           f.prev_on_hand
           + CASE WHEN (f.location_id, f.sku, f.system) IN (SELECT location_id, sku, system FROM adjusted_keys)
                  THEN COALESCE((SELECT CAST(sum(a.delta) AS bigint)
                                   FROM position_adjustments a
                                  WHERE a.location_id = f.location_id AND a.sku = f.sku AND a.system = f.system
                                    AND a.time > f.prev_time AND a.time <= :as_of), 0)
                  ELSE 0 END AS quantity
      FROM first_after f
),
changes AS MATERIALIZED (  -- per changed position: its recounted quantity, or its adjustments after :as_of
    SELECT c.location_id, c.sku, c.system, max(c.quantity) AS quantity, max(c.delta) AS delta
      FROM (SELECT r.location_id, r.sku, r.system, r.quantity, CAST(NULL AS bigint) AS delta FROM recounted r
            UNION ALL
            SELECT a.location_id, a.sku, a.system, NULL, a.delta FROM adjusted_after a) AS c
     GROUP BY c.location_id, c.sku, c.system
),
kept AS NOT MATERIALIZED (  -- the positions whose latest snapshot is at or before :as_of, at :as_of
    SELECT p.system, p.location_id, p.sku, p.snapshot_time,
           p.quantity - CASE WHEN p.last_event_at <= :as_of THEN 0
                             ELSE (SELECT CAST(sum(a.delta) AS bigint)
                                     FROM position_adjustments a
                                    WHERE a.location_id = p.location_id AND a.sku = p.sku
                                      AND a.system = p.system AND a.time > :as_of) END AS quantity
      FROM position_facts p
     WHERE p.snapshot_time <= :as_of
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
),
positions AS NOT MATERIALIZED (  -- every position at :as_of (read by the unpaired branch only)
    SELECT system, location_id, sku, snapshot_time, quantity FROM kept
    UNION ALL
    SELECT system, location_id, sku, snapshot_time, quantity FROM recounted
),
pairs AS (
    -- both positions unchanged since :as_of
    SELECT p.sku, p.other - p.reference AS diff, p.reference
      FROM inventory_pairs p
     WHERE CAST(:paired AS boolean)
       AND p.reference_last_event_at <= :as_of AND p.other_last_event_at <= :as_of
       AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
       AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))
    UNION ALL
    -- a side changed since: its quantity at :as_of (none: no pair)
    SELECT c.sku, c.other - c.reference, c.reference
      FROM (SELECT p.sku,
                   CASE WHEN p.reference_last_event_at <= :as_of THEN p.reference
                        WHEN p.reference_snapshot_time <= :as_of THEN p.reference - r.delta
                        ELSE r.quantity END AS reference,
                   CASE WHEN p.other_last_event_at <= :as_of THEN p.other
                        WHEN p.other_snapshot_time <= :as_of THEN p.other - o.delta
                        ELSE o.quantity END AS other
              FROM inventory_pairs p
              LEFT JOIN changes r
                     ON r.location_id = p.location_id AND r.sku = p.sku AND r.system = CAST(:reference_system AS text)
              LEFT JOIN changes o ON o.location_id = p.location_id AND o.sku = p.sku AND o.system = p.system
             WHERE CAST(:paired AS boolean)
               AND (p.reference_last_event_at > :as_of OR p.other_last_event_at > :as_of)
               AND (CAST(:node AS text) IS NULL OR p.location_id = :node)
               AND (CAST(:region AS text) IS NULL OR p.location_id IN (SELECT location_id FROM in_scope))) AS c
     WHERE c.reference IS NOT NULL AND c.other IS NOT NULL
    UNION ALL
    -- not paired for :reference_system: the positions at :as_of joined with themselves
    SELECT o.sku, o.quantity - r.quantity, r.quantity
      FROM positions r
      JOIN positions o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
     WHERE NOT CAST(:paired AS boolean) AND r.system = CAST(:reference_system AS text)
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
      LEFT JOIN products pr ON pr.sku = s.sku
),
stale_before AS (  -- per location with a node kind (location_kinds_at: sql/migrations/0009_location_kinds.sql)
    SELECT k.location_id,
           CAST(:as_of AS timestamptz)
           - COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                      CAST(:stale_hours AS double precision)) * interval '1 hour' AS before
      FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb)) AS k
),
position_figures AS (  -- each part counted where it is read (no stale hours by node kind: one threshold)
    SELECT sum(f.negative_positions) AS negative_positions, sum(f.stale_positions) AS stale_positions
      FROM (SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
                   count(*) FILTER (WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                                    - CAST(:stale_hours AS double precision) * interval '1 hour') AS stale_positions
              FROM kept AS p
             WHERE CAST(:stale_hours_by_node_kind AS jsonb) = '{}'
            UNION ALL
            SELECT count(*) FILTER (WHERE p.quantity < 0),
                   count(*) FILTER (WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                                    - CAST(:stale_hours AS double precision) * interval '1 hour')
              FROM recounted AS p
             WHERE CAST(:stale_hours_by_node_kind AS jsonb) = '{}'
            UNION ALL
            SELECT count(*) FILTER (WHERE p.quantity < 0),
                   count(*) FILTER (WHERE p.snapshot_time < COALESCE(k.before, CAST(:as_of AS timestamptz)
                                          - CAST(:stale_hours AS double precision) * interval '1 hour'))
              FROM positions AS p
              LEFT JOIN stale_before AS k ON k.location_id = p.location_id
             WHERE CAST(:stale_hours_by_node_kind AS jsonb) <> '{}') AS f
)
SELECT CAST(pf.pairs_compared AS bigint) AS pairs_compared,
       CAST(pf.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(pf.variance_units AS bigint) AS variance_units,
       CAST(pf.variance_value AS double precision) AS variance_value,
       CAST(po.negative_positions AS bigint) AS negative_positions,
       CAST(po.stale_positions AS bigint) AS stale_positions
FROM pair_figures AS pf
CROSS JOIN position_figures AS po
