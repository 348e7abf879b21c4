-- The exception queue (contracts/METRICS.md, "Exceptions"; metrics/exception_queue.py).
--
-- exceptions        one row per stable key (type || ':' || entity): detecting the same
--                   condition again updates the row, never adds one. Lifecycle
--                   open -> acknowledged -> resolved; a resolved one detected again is reopened.
-- exception_events  append-only history of every status change (creation included, with
--                   from_status null): who ('auto' for the detectors, else the user), when, why.
--
-- Times: first_seen, last_seen and resolved_at by 'auto' are the as_of of the detector run
-- (business clock, so a replay gives the same queue); updated_at is the wall clock.

CREATE TABLE exceptions (
    key          text COLLATE "C" PRIMARY KEY,
    type         text COLLATE "C" NOT NULL,
    entity_kind  text NOT NULL
                 CHECK (entity_kind IN ('order', 'position', 'interface', 'delivery', 'source',
                                        'shipment', 'return')),
    entity       text COLLATE "C" NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    severity     text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    resolved_at  timestamptz,
    resolved_by  text,                                -- 'auto' or a user
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exceptions_key_is_type_and_entity CHECK (key = type || ':' || entity),
    CONSTRAINT exceptions_resolved_has_when_and_who CHECK (
        (status = 'resolved') = (resolved_at IS NOT NULL AND resolved_by IS NOT NULL))
);
-- the queue: unresolved first by severity and age; the detectors: by type and status
CREATE INDEX exceptions_queue ON exceptions (status, severity, first_seen);
CREATE INDEX exceptions_type_status ON exceptions (type, status);

CREATE TABLE exception_events (
    event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          text COLLATE "C" NOT NULL REFERENCES exceptions (key),
    at           timestamptz NOT NULL,                -- as_of for 'auto', the wall clock for users
    from_status  text CHECK (from_status IN ('open', 'acknowledged', 'resolved')),  -- null: created
    to_status    text NOT NULL CHECK (to_status IN ('open', 'acknowledged', 'resolved')),
    by           text NOT NULL,
    note         text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exception_events_key ON exception_events (key, event_id);

-- append-only: history is never rewritten
CREATE FUNCTION exception_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'exception_events is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER exception_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON exception_events
    FOR EACH ROW EXECUTE FUNCTION exception_events_append_only();
