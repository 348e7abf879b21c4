-- Projections (issue 4): per-entity facts and hourly rollups kept current as events arrive,
-- so the metrics answer from small indexed tables instead of scanning `events`.
--
-- apply_projections(first, last) folds the events of ingest batches first..last into them;
-- app/ingest/store.py calls it for each batch inside the batch's transaction
-- (sql/projections/apply_batch.sql). Every rule is order-independent ("earliest wins",
-- "latest wins" by (time, seq), sums, array unions), so the projections equal a
-- recomputation from the stored events whatever order they arrived in, and applying any
-- set of batches once gives the same rows as applying them one by one.
--
-- Which figures they can answer, and for which as_of, is in metrics/projections.py:
-- - rows that keep the timestamps a figure filters on answer exactly for ANY as_of
--   (order_facts, return_facts, shipment_facts + shipment_asns, the hourly rollups for
--   whole hours, with the window's partial edge hours read from events);
-- - "latest" pictures (position_facts, product_facts, delivery_facts) answer exactly only
--   when no projected event is later than as_of: their horizon (max time, indexed); for an
--   earlier as_of, inventory recomputes only the positions changed since from events.
-- Events are written once, by ingest; the projections follow TRUNCATE and rewrites of
-- received_at (triggers below), not other UPDATEs or DELETEs of events.

-- The upkeep reads each new batch's events by batch_id. The BRIN index of 0001 does not
-- find them until the new pages are summarized (VACUUM), so it would read ever more of the
-- table per batch; a btree on the append-only batch_id finds them at once (measured: a seq
-- scan of 47 ms per batch at 400k events without it).
CREATE INDEX events_batch ON events (batch_id);

-- One row per order: the times of its milestones (earliest of each type), the created
-- event that counts (earliest by time, then seq), its current node (latest routed or
-- rerouted by time, then seq), and the times of all its reroutes.
CREATE TABLE order_facts (
    order_id        text COLLATE "C" PRIMARY KEY,
    created_at      timestamptz,          -- earliest retail.order.created
    created_seq     bigint,
    promised_by     timestamptz,          -- of that created event
    channel         text COLLATE "C",     -- of that created event
    routed_at       timestamptz,
    picked_at       timestamptz,
    packed_at       timestamptz,
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    cancelled_at    timestamptz,
    node            text COLLATE "C",     -- location_id of the latest routed/rerouted event
    node_at         timestamptz,
    node_seq        bigint,
    reroute_times   timestamptz[] NOT NULL DEFAULT '{}',  -- one element per rerouted event
    last_reroute_at timestamptz
);
CREATE INDEX order_facts_created ON order_facts (created_at);

-- One row per position (system, location_id, sku) with a snapshot: the latest snapshot
-- (time, then seq) and the sum of the same system's adjustments strictly after it.
CREATE TABLE position_facts (
    location_id      text COLLATE "C" NOT NULL,
    sku              text COLLATE "C" NOT NULL,
    system           text COLLATE "C" NOT NULL,
    snapshot_time    timestamptz NOT NULL,
    snapshot_seq     bigint      NOT NULL,
    on_hand          bigint      NOT NULL,  -- quantities are integers (contracts/EVENTS.md)
    adjusted         bigint      NOT NULL,  -- sum of deltas with time > snapshot_time
    quantity         bigint      GENERATED ALWAYS AS (on_hand + adjusted) STORED,
    last_event_at    timestamptz NOT NULL,  -- greatest of the snapshot and those adjustments
    PRIMARY KEY (location_id, sku, system)
);
CREATE INDEX position_facts_horizon ON position_facts (last_event_at);

-- Each sku's latest retail.product.upserted (time, then seq).
CREATE TABLE product_facts (
    sku        text COLLATE "C" PRIMARY KEY,
    time       timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    unit_cost  numeric,
    category   text
);
CREATE INDEX product_facts_horizon ON product_facts (time);

-- Integration calls per whole UTC hour of business time and interface.
CREATE TABLE interface_calls_hourly (
    hour      timestamptz NOT NULL,
    interface text COLLATE "C" NOT NULL,
    calls     bigint NOT NULL,
    failures  bigint NOT NULL,  -- status error or timeout
    PRIMARY KEY (hour, interface)
);

-- One row per (interface, correlation_id) (non-empty ids only): its latest call (time,
-- then seq) and the times of all its calls.
CREATE TABLE delivery_facts (
    interface      text COLLATE "C" NOT NULL,
    correlation_id text COLLATE "C" NOT NULL,
    last_call_at   timestamptz NOT NULL,
    last_seq       bigint      NOT NULL,
    last_status    text        NOT NULL,
    call_times     timestamptz[] NOT NULL,
    PRIMARY KEY (interface, correlation_id)
);
CREATE INDEX delivery_facts_horizon ON delivery_facts (last_call_at);
CREATE INDEX delivery_facts_failed ON delivery_facts (last_call_at) WHERE last_status <> 'ok';

-- Stored events per whole UTC hour of business time and lag bucket: bucket k (0..1439)
-- holds lags (received_at - time) in (k, k+1] minutes, -1 lags <= 0 and 1440 lags over
-- 1440 minutes; so "lag > T minutes" for a whole T in 0..1440 is bucket >= T. (Not per
-- source: the total is what `ctower metrics` needs; per source is read from events.)
CREATE TABLE event_lag_hourly (
    hour       timestamptz NOT NULL,
    lag_bucket smallint NOT NULL,
    events     bigint NOT NULL,
    PRIMARY KEY (hour, lag_bucket)
);

-- One row per return_id: its first receipt and first restock.
CREATE TABLE return_facts (
    return_id    text COLLATE "C" PRIMARY KEY,
    received_at  timestamptz,
    restocked_at timestamptz
);
CREATE INDEX return_facts_received ON return_facts (received_at);

-- One row per shipment_id: its first receipt; and every ASN of it, to find the latest
-- one strictly before the receipt when asked.
CREATE TABLE shipment_facts (
    shipment_id text COLLATE "C" PRIMARY KEY,
    received_at timestamptz NOT NULL
);
CREATE INDEX shipment_facts_received ON shipment_facts (received_at);
CREATE TABLE shipment_asns (
    shipment_id text COLLATE "C" NOT NULL,
    time        timestamptz NOT NULL,
    seq         bigint      NOT NULL,
    expected_at timestamptz,
    PRIMARY KEY (shipment_id, time, seq)
);

-- The event_lag_hourly bucket of an arrival lag (received_at - time): see the table.
-- One expression, no FROM: PostgreSQL inlines it into the calling query.
CREATE FUNCTION lag_bucket(p_received_at timestamptz, p_time timestamptz) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CAST(CASE WHEN p_received_at <= p_time THEN -1
                     WHEN p_received_at - p_time > interval '1440 minutes' THEN 1440
                     ELSE (CAST(extract(epoch FROM p_received_at - p_time) * 1000000 AS bigint) - 1) / 60000000
                END AS smallint)
$fn$;

-- Fold the events of batches p_first..p_last into the projections. Serialised by a
-- transaction-level advisory lock: each statement then sees every committed batch (READ
-- COMMITTED takes its snapshot after the lock), so the position rule "recompute the
-- adjustments after a newer snapshot" never misses a concurrent batch's adjustments.
CREATE FUNCTION apply_projections(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
SELECT pg_advisory_xact_lock(hashtext('ctower.apply_projections'));
WITH b AS MATERIALIZED (
    SELECT seq, type, time, received_at, source, order_id, location_id, sku, interface, data
      FROM events
     WHERE batch_id BETWEEN p_first AND p_last
),
-- orders ------------------------------------------------------------------------------
ord AS (
    SELECT order_id, type, time, seq, location_id, data
      FROM b
     WHERE order_id IS NOT NULL
       AND type IN ('retail.order.created', 'retail.order.routed', 'retail.order.rerouted',
                    'retail.order.picked', 'retail.order.packed', 'retail.order.shipped',
                    'retail.order.delivered', 'retail.order.cancelled')
),
-- one row per order in ONE aggregation: no join between rows of the batch (the planner
-- cannot estimate them, and a nested loop over two CTE scans is quadratic)
ord_facts AS (
    SELECT order_id,
           (array_agg(time ORDER BY time, seq) FILTER (WHERE type = 'retail.order.created'))[1] AS created_at,
           (array_agg(seq ORDER BY time, seq) FILTER (WHERE type = 'retail.order.created'))[1] AS created_seq,
           (array_agg(CAST(data ->> 'promised_by' AS timestamptz) ORDER BY time, seq)
                FILTER (WHERE type = 'retail.order.created'))[1] AS promised_by,
           (array_agg(data ->> 'channel' ORDER BY time, seq)
                FILTER (WHERE type = 'retail.order.created'))[1] AS channel,
           (array_agg(location_id ORDER BY time DESC, seq DESC)
                FILTER (WHERE type IN ('retail.order.routed', 'retail.order.rerouted')))[1] AS node,
           (array_agg(time ORDER BY time DESC, seq DESC)
                FILTER (WHERE type IN ('retail.order.routed', 'retail.order.rerouted')))[1] AS node_at,
           (array_agg(seq ORDER BY time DESC, seq DESC)
                FILTER (WHERE type IN ('retail.order.routed', 'retail.order.rerouted')))[1] AS node_seq,
           min(time) FILTER (WHERE type = 'retail.order.routed')    AS routed_at,
           min(time) FILTER (WHERE type = 'retail.order.picked')    AS picked_at,
           min(time) FILTER (WHERE type = 'retail.order.packed')    AS packed_at,
           min(time) FILTER (WHERE type = 'retail.order.shipped')   AS shipped_at,
           min(time) FILTER (WHERE type = 'retail.order.delivered') AS delivered_at,
           min(time) FILTER (WHERE type = 'retail.order.cancelled') AS cancelled_at,
           COALESCE(array_agg(time) FILTER (WHERE type = 'retail.order.rerouted'), '{}') AS reroute_times,
           max(time) FILTER (WHERE type = 'retail.order.rerouted')  AS last_reroute_at
      FROM ord
     GROUP BY order_id
),
upsert_orders AS (
    INSERT INTO order_facts AS f (order_id, created_at, created_seq, promised_by, channel, routed_at,
                                  picked_at, packed_at, shipped_at, delivered_at, cancelled_at,
                                  node, node_at, node_seq, reroute_times, last_reroute_at)
    SELECT order_id, created_at, created_seq, promised_by, channel, routed_at, picked_at, packed_at,
           shipped_at, delivered_at, cancelled_at, node, node_at, node_seq, reroute_times, last_reroute_at
      FROM ord_facts
     ORDER BY order_id  -- one lock order for every writer
    ON CONFLICT (order_id) DO UPDATE SET
        created_at  = CASE WHEN f.created_at IS NULL OR (excluded.created_at, excluded.created_seq)
                                < (f.created_at, f.created_seq) THEN excluded.created_at ELSE f.created_at END,
        created_seq = CASE WHEN f.created_at IS NULL OR (excluded.created_at, excluded.created_seq)
                                < (f.created_at, f.created_seq) THEN excluded.created_seq ELSE f.created_seq END,
        promised_by = CASE WHEN f.created_at IS NULL OR (excluded.created_at, excluded.created_seq)
                                < (f.created_at, f.created_seq) THEN excluded.promised_by ELSE f.promised_by END,
        channel     = CASE WHEN f.created_at IS NULL OR (excluded.created_at, excluded.created_seq)
                                < (f.created_at, f.created_seq) THEN excluded.channel ELSE f.channel END,
        routed_at    = LEAST(f.routed_at, excluded.routed_at),
        picked_at    = LEAST(f.picked_at, excluded.picked_at),
        packed_at    = LEAST(f.packed_at, excluded.packed_at),
        shipped_at   = LEAST(f.shipped_at, excluded.shipped_at),
        delivered_at = LEAST(f.delivered_at, excluded.delivered_at),
        cancelled_at = LEAST(f.cancelled_at, excluded.cancelled_at),
        node     = CASE WHEN f.node_at IS NULL OR (excluded.node_at, excluded.node_seq)
                             > (f.node_at, f.node_seq) THEN excluded.node ELSE f.node END,
        node_seq = CASE WHEN f.node_at IS NULL OR (excluded.node_at, excluded.node_seq)
                             > (f.node_at, f.node_seq) THEN excluded.node_seq ELSE f.node_seq END,
        node_at  = CASE WHEN f.node_at IS NULL OR (excluded.node_at, excluded.node_seq)
                             > (f.node_at, f.node_seq) THEN excluded.node_at ELSE f.node_at END,
        reroute_times   = f.reroute_times || excluded.reroute_times,
        last_reroute_at = GREATEST(f.last_reroute_at, excluded.last_reroute_at)
),
-- positions ---------------------------------------------------------------------------
pos AS (
    SELECT data ->> 'system' AS system, location_id, sku, type, time, seq, data
      FROM b
     WHERE type IN ('retail.inventory.snapshot', 'retail.inventory.adjusted')
       AND location_id IS NOT NULL AND sku IS NOT NULL
),
-- per position key in ONE aggregation: this batch's latest snapshot, and its adjustments
-- as arrays (matched against the stored snapshot below without joining two CTEs)
pos_keys AS (
    SELECT location_id, sku, system,
           (array_agg(time ORDER BY time DESC, seq DESC)
                FILTER (WHERE type = 'retail.inventory.snapshot'))[1] AS new_time,
           (array_agg(seq ORDER BY time DESC, seq DESC)
                FILTER (WHERE type = 'retail.inventory.snapshot'))[1] AS new_seq,
           (array_agg(CAST(data ->> 'on_hand' AS bigint) ORDER BY time DESC, seq DESC)
                FILTER (WHERE type = 'retail.inventory.snapshot'))[1] AS new_on_hand,
           array_agg(time) FILTER (WHERE type = 'retail.inventory.adjusted') AS adj_times,
           array_agg(CAST(data ->> 'delta' AS bigint)) FILTER (WHERE type = 'retail.inventory.adjusted')
               AS adj_deltas
      FROM pos
     GROUP BY location_id, sku, system
),
pos_merged AS (
    SELECT k.location_id, k.sku, k.system,
           k.new_time IS NOT NULL AND (p.snapshot_time IS NULL
                                       OR (k.new_time, k.new_seq) > (p.snapshot_time, p.snapshot_seq)) AS replaced,
           k.new_time, k.new_seq, k.new_on_hand, k.adj_times, k.adj_deltas,
           p.snapshot_time, p.snapshot_seq, p.on_hand, p.adjusted, p.last_event_at
      FROM pos_keys k
      LEFT JOIN position_facts p USING (location_id, sku, system)
),
pos_rows AS (
    -- a newer snapshot: the stored adjustments after it (this batch's included)
    SELECT m.location_id, m.sku, m.system, m.new_time AS snapshot_time, m.new_seq AS snapshot_seq,
           m.new_on_hand AS on_hand, COALESCE(a.delta, 0) AS adjusted,
           GREATEST(m.new_time, a.last_at) AS last_event_at
      FROM pos_merged m
      LEFT JOIN LATERAL (
          SELECT CAST(sum(CAST(e.data ->> 'delta' AS bigint)) AS bigint) AS delta, max(e.time) AS last_at
            FROM events e
           WHERE e.location_id = m.location_id AND e.sku = m.sku AND e.time > m.new_time
             AND e.type = 'retail.inventory.adjusted' AND e.data ->> 'system' = m.system
      ) AS a ON true
     WHERE m.replaced
    UNION ALL
    -- the same snapshot: add this batch's adjustments after it
    SELECT m.location_id, m.sku, m.system, m.snapshot_time, m.snapshot_seq, m.on_hand,
           m.adjusted + a.delta, GREATEST(m.last_event_at, a.last_at)
      FROM pos_merged m
     CROSS JOIN LATERAL (
          SELECT CAST(sum(u.delta) AS bigint) AS delta, max(u.t) AS last_at
            FROM unnest(m.adj_times, m.adj_deltas) AS u(t, delta)
           WHERE u.t > m.snapshot_time
     ) AS a
     WHERE NOT m.replaced AND m.snapshot_time IS NOT NULL AND a.last_at IS NOT NULL
),
upsert_positions AS (
    INSERT INTO position_facts AS f (location_id, sku, system, snapshot_time, snapshot_seq, on_hand,
                                     adjusted, last_event_at)
    SELECT * FROM pos_rows ORDER BY location_id, sku, system
    ON CONFLICT (location_id, sku, system) DO UPDATE SET
        snapshot_time = excluded.snapshot_time, snapshot_seq = excluded.snapshot_seq,
        on_hand = excluded.on_hand, adjusted = excluded.adjusted, last_event_at = excluded.last_event_at
),
-- products ----------------------------------------------------------------------------
upsert_products AS (
    INSERT INTO product_facts AS f (sku, time, seq, unit_cost, category)
    SELECT DISTINCT ON (sku) sku, time, seq, CAST(data ->> 'unit_cost' AS numeric), data ->> 'category'
      FROM b
     WHERE type = 'retail.product.upserted' AND sku IS NOT NULL
     ORDER BY sku, time DESC, seq DESC
    ON CONFLICT (sku) DO UPDATE SET
        time = excluded.time, seq = excluded.seq, unit_cost = excluded.unit_cost, category = excluded.category
     WHERE (excluded.time, excluded.seq) > (f.time, f.seq)
),
-- integration calls -------------------------------------------------------------------
calls AS (
    SELECT interface, time, seq, data ->> 'status' AS status,
           NULLIF(data ->> 'correlation_id', '') AS correlation_id
      FROM b
     WHERE type = 'retail.integration.call' AND interface IS NOT NULL
),
upsert_calls AS (
    INSERT INTO interface_calls_hourly AS f (hour, interface, calls, failures)
    SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), interface, count(*),
           count(*) FILTER (WHERE status IN ('error', 'timeout'))
      FROM calls
     GROUP BY 1, 2
     ORDER BY 1, 2
    ON CONFLICT (hour, interface) DO UPDATE SET
        calls = f.calls + excluded.calls, failures = f.failures + excluded.failures
),
upsert_deliveries AS (
    INSERT INTO delivery_facts AS f (interface, correlation_id, last_call_at, last_seq, last_status, call_times)
    SELECT interface, correlation_id,
           (array_agg(time ORDER BY time DESC, seq DESC))[1],
           (array_agg(seq ORDER BY time DESC, seq DESC))[1],
           (array_agg(status ORDER BY time DESC, seq DESC))[1],
           array_agg(time)
      FROM calls
     WHERE correlation_id IS NOT NULL
     GROUP BY interface, correlation_id
     ORDER BY interface, correlation_id
    ON CONFLICT (interface, correlation_id) DO UPDATE SET
        last_call_at = CASE WHEN (excluded.last_call_at, excluded.last_seq) > (f.last_call_at, f.last_seq)
                            THEN excluded.last_call_at ELSE f.last_call_at END,
        last_seq     = CASE WHEN (excluded.last_call_at, excluded.last_seq) > (f.last_call_at, f.last_seq)
                            THEN excluded.last_seq ELSE f.last_seq END,
        last_status  = CASE WHEN (excluded.last_call_at, excluded.last_seq) > (f.last_call_at, f.last_seq)
                            THEN excluded.last_status ELSE f.last_status END,
        call_times   = f.call_times || excluded.call_times
),
-- arrival lag of every stored event -----------------------------------------------------
upsert_lags AS (
    INSERT INTO event_lag_hourly AS f (hour, lag_bucket, events)
    SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), lag_bucket(received_at, time),
           count(*)
      FROM b
     GROUP BY 1, 2
     ORDER BY 1, 2
    ON CONFLICT (hour, lag_bucket) DO UPDATE SET events = f.events + excluded.events
),
-- returns and inbound -----------------------------------------------------------------
upsert_returns AS (
    INSERT INTO return_facts AS f (return_id, received_at, restocked_at)
    SELECT data ->> 'return_id',
           min(time) FILTER (WHERE type = 'retail.return.received'),
           min(time) FILTER (WHERE type = 'retail.return.restocked')
      FROM b
     WHERE type IN ('retail.return.received', 'retail.return.restocked')
     GROUP BY 1
     ORDER BY 1
    ON CONFLICT (return_id) DO UPDATE SET
        received_at = LEAST(f.received_at, excluded.received_at),
        restocked_at = LEAST(f.restocked_at, excluded.restocked_at)
),
upsert_receipts AS (
    INSERT INTO shipment_facts AS f (shipment_id, received_at)
    SELECT data ->> 'shipment_id', min(time)
      FROM b
     WHERE type = 'retail.shipment.received'
     GROUP BY 1
     ORDER BY 1
    ON CONFLICT (shipment_id) DO UPDATE SET received_at = LEAST(f.received_at, excluded.received_at)
),
insert_asns AS (
    INSERT INTO shipment_asns (shipment_id, time, seq, expected_at)
    SELECT data ->> 'shipment_id', time, seq, CAST(data ->> 'expected_at' AS timestamptz)
      FROM b
     WHERE type = 'retail.shipment.asn'
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING
)
SELECT;
$fn$;

-- The projections are derived from `events`: emptying the store empties them too.
CREATE FUNCTION truncate_projections() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE order_facts, position_facts, product_facts, interface_calls_hourly, delivery_facts,
             event_lag_hourly, return_facts, shipment_facts, shipment_asns;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_projections AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_projections();

-- Events are written once, by ingest; the one column rewritten afterwards is received_at
-- (replaying an arrival, tests faking the clock). Keep the lag rollup true to it.
CREATE FUNCTION events_lag_moved() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO event_lag_hourly AS f (hour, lag_bucket, events)
    SELECT hour, bucket, sum(n)
      FROM (SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour,
                   lag_bucket(received_at, time) AS bucket, -1 AS n
              FROM old_rows
            UNION ALL
            SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), lag_bucket(received_at, time), 1
              FROM new_rows) AS moved
     GROUP BY 1, 2
    HAVING sum(n) <> 0
     ORDER BY 1, 2
    ON CONFLICT (hour, lag_bucket) DO UPDATE SET events = f.events + excluded.events;
    DELETE FROM event_lag_hourly WHERE events = 0;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_lag_moved AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_lag_moved();

-- The SLA and reroute facts at p_as_of of each order in the window, from order_facts:
-- the projection's counterpart of order_sla_facts and order_reroute_counts (migration
-- 0004), with the same meaning and exact for any p_as_of. An order is in the window when
-- its created_at is in [p_since, p_until) and <= p_as_of (its earliest created event at or
-- before p_as_of is its earliest of all); an earliest shipped / delivered / cancelled time
-- counts when it is <= p_as_of, and so does each reroute time. The current node is the
-- projected one when its routing is <= p_as_of, else read from the order's events (index
-- events_order): the latest routed or rerouted at or before p_as_of (ties: later arrival).
CREATE FUNCTION projected_order_sla_facts(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (order_id text, created_at timestamptz, promised_by timestamptz, channel text,
               delivered_at timestamptz, shipped boolean, cancelled boolean, breached boolean,
               reroutes bigint, node text)
LANGUAGE sql STABLE AS $fn$
    SELECT f.order_id, f.created_at, f.promised_by, f.channel, f.delivered_at, f.shipped, f.cancelled,
           CASE WHEN f.delivered_at IS NOT NULL THEN f.delivered_at > f.promised_by
                ELSE p_as_of > f.promised_by
           END,
           f.reroutes,
           CASE WHEN f.node_at IS NULL OR f.node_at <= p_as_of THEN f.node
                ELSE (SELECT r.location_id
                        FROM events r
                       WHERE r.order_id = f.order_id
                         AND r.time <= p_as_of
                         AND r.type IN ('retail.order.routed', 'retail.order.rerouted')
                       ORDER BY r.time DESC, r.seq DESC
                       LIMIT 1)
           END
      FROM (SELECT o.order_id, o.created_at, o.promised_by, o.channel, o.node, o.node_at,
                   CASE WHEN o.delivered_at <= p_as_of THEN o.delivered_at END AS delivered_at,
                   COALESCE(o.shipped_at <= p_as_of, false)                    AS shipped,
                   COALESCE(o.cancelled_at <= p_as_of, false)                  AS cancelled,
                   CASE WHEN o.last_reroute_at IS NULL THEN 0
                        WHEN o.last_reroute_at <= p_as_of THEN cardinality(o.reroute_times)
                        ELSE (SELECT count(*) FROM unnest(o.reroute_times) AS t WHERE t <= p_as_of)
                   END AS reroutes
              FROM order_facts o
             WHERE o.created_at >= p_since AND o.created_at < p_until AND o.created_at <= p_as_of) AS f
$fn$;

-- Events stored before this migration.
SELECT apply_projections(0, 9223372036854775807);
