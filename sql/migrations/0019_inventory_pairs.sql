-- Inventory pairs and snapshot links (issue 5, every page under 1 s at 10M events): the
-- inventory picture at the latest as_of, and at an earlier one (the Overview's previous
-- window), without joining every position with every other.
--
-- inventory_pairs            one row per pair (contracts/METRICS.md, "Inventory variance"):
--                            a location and sku where the reference system and another
--                            system both hold a position in position_facts (migration
--                            0007), with both quantities, snapshot times and last_event_at
--                            (position_facts' columns of each side). Built for ONE reference
--                            system (inventory_pairs_reference; the migration takes the
--                            deployment's `reference_system` policy, else 'erp'); the
--                            metrics read it only for that system and otherwise join
--                            position_facts with itself as before (metrics/inventory.py).
--                            `SELECT rebuild_inventory_pairs('wms')` rebuilds it for another.
-- position_snapshots.prev_*  each snapshot's predecessor (the same position's previous
--                            snapshot by time, then seq; NULL: none): time, seq, on_hand. A
--                            position's latest snapshot at or before an earlier as_of is then
--                            the predecessor of its first snapshot after as_of, read by a range
--                            scan of the snapshots after as_of (index position_snapshots_time)
--                            instead of one probe per position changed since
--                            (inventory_summary_replayed.sql, inventory_figures_replayed.sql).
--
-- Upkeep, per ingest batch in the batch's transaction (sql/projections/apply_batch.sql,
-- under apply_projections' advisory lock): apply_inventory_pairs(first, last) recomputes the
-- pairs of the (location, sku) keys the batch's snapshots and adjustments touched, from
-- position_facts after apply_projections has folded the batch in; apply_history_facts
-- (replaced here) stores each new snapshot with its predecessor, and re-links the stored
-- snapshot that follows it when it arrived out of order. Both are order-independent: the
-- rows equal a recomputation from the stored events whatever order they arrived in
-- (tests/test_projections.py).

CREATE TABLE inventory_pairs_reference (
    only_row         boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    reference_system text COLLATE "C" NOT NULL
);

CREATE TABLE inventory_pairs (
    location_id             text COLLATE "C" NOT NULL,
    sku                     text COLLATE "C" NOT NULL,
    system                  text COLLATE "C" NOT NULL,  -- the other system
    reference               bigint      NOT NULL,       -- the reference position's quantity
    other                   bigint      NOT NULL,       -- the other system's
    reference_snapshot_time timestamptz NOT NULL,       -- and the two positions' snapshot_time
    other_snapshot_time     timestamptz NOT NULL,
    reference_last_event_at timestamptz NOT NULL,       -- and their last_event_at
    other_last_event_at     timestamptz NOT NULL,
    PRIMARY KEY (location_id, sku, system)
);

-- The pairs of position_facts for reference system p_reference, from scratch.
CREATE FUNCTION rebuild_inventory_pairs(p_reference text) RETURNS void
LANGUAGE sql AS $fn$
SELECT pg_advisory_xact_lock(hashtext('ctower.apply_projections'));
TRUNCATE inventory_pairs, inventory_pairs_reference;
INSERT INTO inventory_pairs_reference (reference_system) VALUES (p_reference);
INSERT INTO inventory_pairs (location_id, sku, system, reference, other, reference_snapshot_time,
                             other_snapshot_time, reference_last_event_at, other_last_event_at)
SELECT r.location_id, r.sku, o.system, r.quantity, o.quantity, r.snapshot_time, o.snapshot_time,
       r.last_event_at, o.last_event_at
  FROM position_facts r
  JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
 WHERE r.system = p_reference
 ORDER BY 1, 2, 3;
$fn$;

-- The pairs of the (location, sku) keys whose snapshots or adjustments are in batches
-- p_first..p_last, recomputed from position_facts (positions are never removed, so neither
-- are pairs: an upsert, skipping the rows that did not change).
CREATE FUNCTION apply_inventory_pairs(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
INSERT INTO inventory_pairs AS f (location_id, sku, system, reference, other, reference_snapshot_time,
                                  other_snapshot_time, reference_last_event_at, other_last_event_at)
SELECT r.location_id, r.sku, o.system, r.quantity, o.quantity, r.snapshot_time, o.snapshot_time,
       r.last_event_at, o.last_event_at
  FROM (SELECT DISTINCT location_id, sku
          FROM events
         WHERE batch_id BETWEEN p_first AND p_last
           AND type IN ('retail.inventory.snapshot', 'retail.inventory.adjusted')
           AND location_id IS NOT NULL AND sku IS NOT NULL) AS k
  JOIN inventory_pairs_reference AS ref ON true
  JOIN position_facts r ON r.location_id = k.location_id AND r.sku = k.sku AND r.system = ref.reference_system
  JOIN position_facts o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
 ORDER BY 1, 2, 3
ON CONFLICT (location_id, sku, system) DO UPDATE SET
    reference = excluded.reference, other = excluded.other,
    reference_snapshot_time = excluded.reference_snapshot_time,
    other_snapshot_time = excluded.other_snapshot_time,
    reference_last_event_at = excluded.reference_last_event_at, other_last_event_at = excluded.other_last_event_at
 WHERE (f.reference, f.other, f.reference_snapshot_time, f.other_snapshot_time, f.reference_last_event_at,
        f.other_last_event_at)
       IS DISTINCT FROM (excluded.reference, excluded.other, excluded.reference_snapshot_time,
                         excluded.other_snapshot_time, excluded.reference_last_event_at,
                         excluded.other_last_event_at)
$fn$;

ALTER TABLE position_snapshots
    ADD COLUMN prev_time    timestamptz,
    ADD COLUMN prev_seq     bigint,
    ADD COLUMN prev_on_hand bigint;

-- apply_history_facts of migration 0016, with each new snapshot's predecessor: the later of
-- the batch's own previous snapshot of the position and the stored one (one probe by
-- primary key); then the stored snapshot right after each new one (an arrival out of order)
-- takes the new one as its predecessor.
CREATE OR REPLACE FUNCTION apply_history_facts(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
WITH b AS MATERIALIZED (
    SELECT type, time, seq, order_id, location_id, sku, data
      FROM events
     WHERE batch_id BETWEEN p_first AND p_last
       AND type IN ('retail.order.rerouted', 'retail.inventory.snapshot', 'retail.inventory.adjusted',
                    'retail.product.upserted')
),
reroutes AS (
    INSERT INTO reroute_facts (order_id, time, seq, reason, from_node, to_node)
    SELECT order_id, time, seq, data ->> 'reason', data ->> 'from_node', data ->> 'to_node'
      FROM b
     WHERE type = 'retail.order.rerouted' AND order_id IS NOT NULL
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING
),
new_snapshots AS (
    SELECT n.*,
           lag(n.time) OVER w AS batch_prev_time, lag(n.seq) OVER w AS batch_prev_seq,
           lag(n.on_hand) OVER w AS batch_prev_on_hand
      FROM (SELECT location_id, sku, data ->> 'system' AS system, time, seq,
                   CAST(data ->> 'on_hand' AS bigint) AS on_hand
              FROM b
             WHERE type = 'retail.inventory.snapshot' AND location_id IS NOT NULL AND sku IS NOT NULL) AS n
    WINDOW w AS (PARTITION BY n.location_id, n.sku, n.system ORDER BY n.time, n.seq)
),
snapshots AS (  -- the rows position_facts folds (migration 0007), one by one
    INSERT INTO position_snapshots (location_id, sku, system, time, seq, on_hand, prev_time, prev_seq, prev_on_hand)
    SELECT n.location_id, n.sku, n.system, n.time, n.seq, n.on_hand,
           CASE WHEN s.time IS NULL OR (n.batch_prev_time, n.batch_prev_seq) > (s.time, s.seq)
                THEN n.batch_prev_time ELSE s.time END,
           CASE WHEN s.time IS NULL OR (n.batch_prev_time, n.batch_prev_seq) > (s.time, s.seq)
                THEN n.batch_prev_seq ELSE s.seq END,
           CASE WHEN s.time IS NULL OR (n.batch_prev_time, n.batch_prev_seq) > (s.time, s.seq)
                THEN n.batch_prev_on_hand ELSE s.on_hand END
      FROM new_snapshots n
      LEFT JOIN LATERAL (
          SELECT h.time, h.seq, h.on_hand
            FROM position_snapshots h
           WHERE h.location_id = n.location_id AND h.sku = n.sku AND h.system = n.system
             AND (h.time, h.seq) < (n.time, n.seq)
           ORDER BY h.time DESC, h.seq DESC
           LIMIT 1) AS s ON true
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT DO NOTHING
),
adjustments AS (
    INSERT INTO position_adjustments (location_id, sku, system, time, seq, delta)
    SELECT location_id, sku, data ->> 'system', time, seq, CAST(data ->> 'delta' AS bigint)
      FROM b
     WHERE type = 'retail.inventory.adjusted' AND location_id IS NOT NULL AND sku IS NOT NULL
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT DO NOTHING
)
INSERT INTO product_history (sku, time, seq, unit_cost, category)
SELECT sku, time, seq, CAST(data ->> 'unit_cost' AS numeric), data ->> 'category'
  FROM b
 WHERE type = 'retail.product.upserted' AND sku IS NOT NULL
 ORDER BY 1, 2, 3
ON CONFLICT DO NOTHING;

UPDATE position_snapshots AS s
   SET prev_time = n.time, prev_seq = n.seq, prev_on_hand = n.on_hand
  FROM (SELECT e.location_id, e.sku, e.data ->> 'system' AS system, e.time, e.seq,
               CAST(e.data ->> 'on_hand' AS bigint) AS on_hand, x.time AS next_time, x.seq AS next_seq
          FROM events e
         CROSS JOIN LATERAL (
              SELECT h.time, h.seq
                FROM position_snapshots h
               WHERE h.location_id = e.location_id AND h.sku = e.sku AND h.system = e.data ->> 'system'
                 AND (h.time, h.seq) > (e.time, e.seq)
               ORDER BY h.time, h.seq
               LIMIT 1) AS x
         WHERE e.batch_id BETWEEN p_first AND p_last
           AND e.type = 'retail.inventory.snapshot' AND e.location_id IS NOT NULL AND e.sku IS NOT NULL) AS n
 WHERE s.location_id = n.location_id AND s.sku = n.sku AND s.system = n.system
   AND s.time = n.next_time AND s.seq = n.next_seq
   AND (s.prev_time, s.prev_seq) IS DISTINCT FROM (n.time, n.seq);
$fn$;

CREATE FUNCTION truncate_inventory_pairs() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE inventory_pairs;  -- the reference system it is built for stays
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_inventory_pairs AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_inventory_pairs();

-- Snapshots stored before this migration: each one's predecessor.
UPDATE position_snapshots AS s
   SET prev_time = l.prev_time, prev_seq = l.prev_seq, prev_on_hand = l.prev_on_hand
  FROM (SELECT location_id, sku, system, time, seq,
               lag(time) OVER w AS prev_time, lag(seq) OVER w AS prev_seq, lag(on_hand) OVER w AS prev_on_hand
          FROM position_snapshots
        WINDOW w AS (PARTITION BY location_id, sku, system ORDER BY time, seq)) AS l
 WHERE l.prev_time IS NOT NULL
   AND s.location_id = l.location_id AND s.sku = l.sku AND s.system = l.system
   AND s.time = l.time AND s.seq = l.seq;

-- The snapshots after an as_of, in time order.
CREATE INDEX position_snapshots_time ON position_snapshots (time);

-- Positions stored before this migration: their pairs for the deployment's reference system.
SELECT rebuild_inventory_pairs(COALESCE((SELECT value #>> '{}' FROM policies
                                          WHERE name = 'reference_system' AND scope = 'deployment'), 'erp'));
