-- Scope (issue 5): the shared filters region, channel, node and source inside the metrics.
-- metrics/scoping.py says what each filter means per family. This migration adds what the
-- projection path needs to narrow by node and region, kept current by ingest in each
-- batch's transaction (sql/projections/apply_batch.sql calls apply_scope_projections after
-- apply_projections), with order-independent rules as in migration 0007:
--
-- location_history   every retail.location.upserted (location, time, seq, region, kind):
--                    a location's region at an instant is that of its latest upsert at or
--                    before it (ties: the later arrival), exact for any as_of. Master data:
--                    a few rows per location.
-- shipment_nodes     each shipment's first receipt (time, then seq) and its location_id:
--                    the inbound node (where it was received, the ASN's to_location).
-- return_nodes       each return's first receipt (time, then seq) and its location_id.
-- interface_calls_hourly_by_source, event_lag_hourly_by_source
--                    the hourly rollups of migration 0007 per source: calls per
--                    data.source_system, stored events' arrival lag per event source (the
--                    integrations figures narrowed by source).
--
-- The events path (use_projections=False) reads the same facts from events with the
-- *_from_events functions below; tests/test_scope*.py and tests/test_metrics_reference.py
-- check both give the same figures.

CREATE TABLE location_history (
    location_id text COLLATE "C" NOT NULL,
    time        timestamptz NOT NULL,
    seq         bigint      NOT NULL,
    region      text COLLATE "C",
    kind        text,
    PRIMARY KEY (location_id, time, seq)
);

CREATE TABLE shipment_nodes (
    shipment_id text COLLATE "C" PRIMARY KEY,
    received_at timestamptz NOT NULL,
    received_seq bigint     NOT NULL,
    location_id text COLLATE "C"
);

CREATE TABLE return_nodes (
    return_id    text COLLATE "C" PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    received_seq bigint      NOT NULL,
    location_id  text COLLATE "C"
);

CREATE TABLE interface_calls_hourly_by_source (
    hour          timestamptz NOT NULL,
    source_system text COLLATE "C" NOT NULL,
    calls         bigint NOT NULL,
    failures      bigint NOT NULL,  -- status error or timeout
    PRIMARY KEY (source_system, hour)
);

CREATE TABLE event_lag_hourly_by_source (  -- buckets as event_lag_hourly (migration 0007)
    hour       timestamptz NOT NULL,
    source     text COLLATE "C" NOT NULL,
    lag_bucket smallint NOT NULL,
    events     bigint NOT NULL,
    PRIMARY KEY (source, hour, lag_bucket)
);

-- Fold the events of batches p_first..p_last into the scope projections (runs after
-- apply_projections in the same transaction, so under its advisory lock). The batch is read
-- by batch_id (index events_batch; its pages are in cache from apply_projections).
CREATE FUNCTION apply_scope_projections(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
WITH b AS MATERIALIZED (  -- the few events whose data is read (jsonb is costly to copy)
    SELECT type, time, seq, location_id, interface, data
      FROM events
     WHERE batch_id BETWEEN p_first AND p_last
       AND type IN ('retail.integration.call', 'retail.location.upserted', 'retail.shipment.received',
                    'retail.return.received')
),
upsert_calls AS (
    INSERT INTO interface_calls_hourly_by_source AS f (hour, source_system, calls, failures)
    SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), data ->> 'source_system', count(*),
           count(*) FILTER (WHERE data ->> 'status' IN ('error', 'timeout'))
      FROM b
     WHERE type = 'retail.integration.call' AND interface IS NOT NULL AND data ->> 'source_system' IS NOT NULL
     GROUP BY 1, 2
     ORDER BY 2, 1
    ON CONFLICT (source_system, hour) DO UPDATE SET
        calls = f.calls + excluded.calls, failures = f.failures + excluded.failures
),
upsert_lags AS (
    INSERT INTO event_lag_hourly_by_source AS f (hour, source, lag_bucket, events)
    SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), source, lag_bucket(received_at, time),
           count(*)
      FROM events  -- every event of the batch, three narrow columns
     WHERE batch_id BETWEEN p_first AND p_last
     GROUP BY 1, 2, 3
     ORDER BY 2, 1, 3
    ON CONFLICT (source, hour, lag_bucket) DO UPDATE SET events = f.events + excluded.events
),
insert_locations AS (
    INSERT INTO location_history (location_id, time, seq, region, kind)
    SELECT location_id, time, seq, data ->> 'region', data ->> 'kind'
      FROM b
     WHERE type = 'retail.location.upserted' AND location_id IS NOT NULL
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING
),
upsert_shipments AS (
    INSERT INTO shipment_nodes AS f (shipment_id, received_at, received_seq, location_id)
    SELECT DISTINCT ON (data ->> 'shipment_id') data ->> 'shipment_id', time, seq, location_id
      FROM b
     WHERE type = 'retail.shipment.received' AND data ->> 'shipment_id' IS NOT NULL
     ORDER BY data ->> 'shipment_id', time, seq
    ON CONFLICT (shipment_id) DO UPDATE SET
        received_at = excluded.received_at, received_seq = excluded.received_seq,
        location_id = excluded.location_id
     WHERE (excluded.received_at, excluded.received_seq) < (f.received_at, f.received_seq)
)
INSERT INTO return_nodes AS f (return_id, received_at, received_seq, location_id)
SELECT DISTINCT ON (data ->> 'return_id') data ->> 'return_id', time, seq, location_id
  FROM b
 WHERE type = 'retail.return.received' AND data ->> 'return_id' IS NOT NULL
 ORDER BY data ->> 'return_id', time, seq
ON CONFLICT (return_id) DO UPDATE SET
    received_at = excluded.received_at, received_seq = excluded.received_seq,
    location_id = excluded.location_id
 WHERE (excluded.received_at, excluded.received_seq) < (f.received_at, f.received_seq);
$fn$;

CREATE FUNCTION truncate_scope_projections() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE location_history, shipment_nodes, return_nodes, interface_calls_hourly_by_source,
             event_lag_hourly_by_source;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_scope_projections AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_scope_projections();

-- Keep the per-source lag rollup true to a rewritten received_at, as events_lag_moved
-- (migration 0007) does for event_lag_hourly.
CREATE FUNCTION events_lag_moved_by_source() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO event_lag_hourly_by_source AS f (hour, source, lag_bucket, events)
    SELECT hour, source, bucket, sum(n)
      FROM (SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour, source,
                   lag_bucket(received_at, time) AS bucket, -1 AS n
              FROM old_rows
            UNION ALL
            SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), source,
                   lag_bucket(received_at, time), 1
              FROM new_rows) AS moved
     GROUP BY 1, 2, 3
    HAVING sum(n) <> 0
     ORDER BY 2, 1, 3
    ON CONFLICT (source, hour, lag_bucket) DO UPDATE SET events = f.events + excluded.events;
    DELETE FROM event_lag_hourly_by_source WHERE events = 0;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_lag_moved_by_source AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_lag_moved_by_source();

-- The locations whose region at p_as_of is p_region: the region of each location's latest
-- retail.location.upserted at or before p_as_of (ties: the later arrival). A location never
-- upserted by p_as_of is in no region. From location_history (projection path) ...
CREATE FUNCTION locations_in_region(p_as_of timestamptz, p_region text)
RETURNS TABLE (location_id text)
LANGUAGE sql STABLE AS $fn$
    SELECT l.location_id
      FROM (SELECT DISTINCT ON (h.location_id) h.location_id, h.region
              FROM location_history h
             WHERE h.time <= p_as_of
             ORDER BY h.location_id, h.time DESC, h.seq DESC) AS l
     WHERE l.region = p_region
$fn$;

-- ... and from events (the events path; a scan of the location events).
CREATE FUNCTION locations_in_region_from_events(p_as_of timestamptz, p_region text)
RETURNS TABLE (location_id text)
LANGUAGE sql STABLE AS $fn$
    SELECT l.location_id
      FROM (SELECT DISTINCT ON (e.location_id) e.location_id, e.data ->> 'region' AS region
              FROM events e
             WHERE e.type = 'retail.location.upserted'
               AND e.location_id IS NOT NULL
               AND e.time <= p_as_of
             ORDER BY e.location_id, e.time DESC, e.seq DESC) AS l
     WHERE l.region = p_region
$fn$;

-- An order's current node at p_as_of from its events (index events_order): the location of
-- its latest routed or rerouted event at or before p_as_of (ties: the later arrival); NULL
-- when never routed by then. The events-path counterpart of projected_order_sla_facts' node.
CREATE FUNCTION order_node_at(p_order_id text, p_as_of timestamptz) RETURNS text
LANGUAGE sql STABLE AS $fn$
    SELECT (SELECT r.location_id
              FROM events r
             WHERE r.order_id = p_order_id
               AND r.time <= p_as_of
               AND r.type IN ('retail.order.routed', 'retail.order.rerouted')
             ORDER BY r.time DESC, r.seq DESC
             LIMIT 1)
$fn$;

-- Events stored before this migration.
SELECT apply_scope_projections(0, 9223372036854775807);

-- Failed deliveries of one source: failed_deliveries() (migration 0004) over the calls whose
-- data.source_system is p_source only (the integrations figures narrowed by source are
-- over that source's calls: metrics/scoping.py).
CREATE FUNCTION failed_deliveries_of_source(p_as_of timestamptz, p_since timestamptz, p_until timestamptz,
                                            p_source text)
RETURNS TABLE (interface text, correlation_id text, last_status text, last_call_at timestamptz)
LANGUAGE sql STABLE AS $fn$
    WITH calls AS (
        SELECT interface, NULLIF(data ->> 'correlation_id', '') AS correlation_id,
               data ->> 'status' AS status, time, seq
          FROM events
         WHERE type = 'retail.integration.call'
           AND interface IS NOT NULL
           AND time <= p_as_of
           AND time >= p_since
           AND NULLIF(data ->> 'correlation_id', '') IS NOT NULL
           AND data ->> 'source_system' = p_source
    )
    SELECT l.interface, l.correlation_id, l.status, l.time
      FROM (SELECT DISTINCT ON (interface, correlation_id) interface, correlation_id, status, time
              FROM calls
             ORDER BY interface, correlation_id, time DESC, seq DESC) AS l
     WHERE l.status <> 'ok'
       AND (l.interface, l.correlation_id) IN (SELECT interface, correlation_id FROM calls
                                                WHERE time < p_until)
$fn$;
