-- The canonical event store (contracts/EVENTS.md).
--
-- events           every accepted event, partitioned by month of business time (UTC).
-- event_keys       the (source, id) idempotency key, unique across all partitions, with the
--                  content fingerprint that tells a duplicate from a conflict.
-- quarantine       every record that was not stored, with its raw text and a readable reason.
-- ingest_batches   one row per ingest transaction: who, what, when, and the counts.
-- source_activity  per source: when it was last heard from, and how much it sent.
--
-- Key columns use the "C" collation: byte order, the same on every server, and several
-- times cheaper to index than a linguistic collation.

CREATE SEQUENCE events_seq AS bigint;
CREATE SEQUENCE ingest_batches_seq AS bigint;

CREATE TABLE ingest_batches (
    batch_id      bigint PRIMARY KEY DEFAULT nextval('ingest_batches_seq'),
    run_id        uuid        NOT NULL,             -- one `ctower ingest` or one collector run
    origin        text        NOT NULL,             -- file path, '-' for stdin, or a collector's name
    source_label  text,                             -- --source NAME, or the collector's source
    actor         text        NOT NULL,             -- user@host (pid)
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    first_record  bigint,
    last_record   bigint,
    received      integer     NOT NULL,
    accepted      integer     NOT NULL,
    duplicate     integer     NOT NULL,
    conflict      integer     NOT NULL,
    quarantined   integer     NOT NULL,             -- includes the conflicts
    CONSTRAINT ingest_batches_balance CHECK (received = accepted + duplicate + quarantined),
    CONSTRAINT ingest_batches_conflicts CHECK (conflict <= quarantined)
);
CREATE INDEX ingest_batches_run ON ingest_batches (run_id);
CREATE INDEX ingest_batches_finished ON ingest_batches (finished_at);

CREATE TABLE events (
    seq          bigint      NOT NULL DEFAULT nextval('events_seq'),  -- arrival order
    source       text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    type         text COLLATE "C" NOT NULL,
    time         timestamptz NOT NULL,               -- business time
    received_at  timestamptz NOT NULL DEFAULT now(),
    subject      text COLLATE "C",
    data         jsonb       NOT NULL,               -- as sent, timestamps rewritten in UTC
    attrs        jsonb,                              -- other envelope attributes (datacontenttype, extensions)
    batch_id     bigint      NOT NULL,
    record_no    bigint      NOT NULL,               -- line or element number within the batch's origin
    -- keys the hot queries filter on, extracted from data at ingest (app/ingest/validate.py)
    order_id     text COLLATE "C",                   -- data.order_id
    location_id  text COLLATE "C",                   -- data.location_id, node_id, to_node or to_location
    sku          text COLLATE "C",                   -- data.sku
    interface    text COLLATE "C"                    -- data.interface
) PARTITION BY RANGE (time);

-- business time: partitions narrow a window to its months, BRIN to the pages within
-- (collectors deliver roughly in time order); type filters run on those pages. The
-- metrics answer from projections (issue 4), so a btree on (type, time) is not worth its
-- 2.5 us an event at ingest (measured: bench/ingest.py).
CREATE INDEX events_time_brin  ON events USING brin (time);
CREATE INDEX events_order      ON events (order_id, time) WHERE order_id IS NOT NULL;
CREATE INDEX events_position   ON events (location_id, sku, time) WHERE sku IS NOT NULL;
CREATE INDEX events_interface  ON events (interface, time) WHERE interface IS NOT NULL;
-- arrival columns grow with insertion order: BRIN finds recent arrivals at almost no cost
CREATE INDEX events_received   ON events USING brin (received_at);
CREATE INDEX events_seq_brin   ON events USING brin (seq);
CREATE INDEX events_batch_brin ON events USING brin (batch_id);

CREATE TABLE event_keys (
    source        text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    time          timestamptz NOT NULL,  -- finds the event's partition
    content_hash  bigint      NOT NULL,  -- fingerprint of the canonical content
    batch_id      bigint      NOT NULL,
    PRIMARY KEY (source, id)
);

CREATE TABLE quarantine (
    quarantine_id bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    batch_id      bigint      NOT NULL,
    origin        text        NOT NULL,  -- file path, '-' for stdin, or a collector's name
    source        text,                  -- the event's source when it could be read, else the label
    record_no     bigint      NOT NULL,  -- line number (JSON Lines) or element number (JSON array)
    reason_code   text        NOT NULL CHECK (reason_code IN ('invalid', 'conflict')),
    reason        text        NOT NULL,
    event_id      text,                  -- the event's id when it could be read
    raw           text        NOT NULL,
    fingerprint   bigint      NOT NULL,  -- origin + record + raw: re-ingesting adds nothing
    CONSTRAINT quarantine_once UNIQUE (fingerprint)
);
CREATE INDEX quarantine_received ON quarantine (received_at);
CREATE INDEX quarantine_source ON quarantine (source, received_at);

CREATE TABLE source_activity (
    source            text COLLATE "C" PRIMARY KEY,
    first_received_at timestamptz NOT NULL,
    last_received_at  timestamptz NOT NULL,  -- any valid event, duplicates included: it is alive
    last_event_time   timestamptz,           -- latest business time of its stored events
    received          bigint      NOT NULL,  -- valid events received (accepted + duplicate + conflict)
    accepted          bigint      NOT NULL
);

-- Create the month partition that holds `ts` (UTC months), if it is missing.
CREATE FUNCTION ensure_event_partition(ts timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lower_bound timestamptz := date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    upper_bound timestamptz := lower_bound + interval '1 month';
    part_name   text := 'events_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY"m"MM');
BEGIN
    IF to_regclass(part_name) IS NULL THEN
        -- serialise creators so two ingests of the same new month do not collide
        PERFORM pg_advisory_xact_lock(hashtext('ctower.ensure_event_partition'));
        IF to_regclass(part_name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                           part_name, lower_bound, upper_bound);
        END IF;
    END IF;
    RETURN part_name;
END;
$$;
