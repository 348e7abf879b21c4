-- Incident reviews (app/incidents/, metrics/incidents.py).
--
-- incidents           one row per incident: a title, open or closed, who opened it and when,
--                     the business-time range it is about [range_from, range_to), a summary,
--                     and the exception it was opened from (if any).
-- incident_entities   the entities an incident is about (kinds of app/ui/links.py plus
--                     'delivery' = 'interface|correlation_id', as the exception queue names
--                     them); attached and detached by managers (the audit log has both).
-- incident_notes      what reviewers wrote, append-only: a note is never edited or removed.
--
-- Times: opened_at, closed_at, added_at and a note's `at` are the wall clock (or the time a
-- caller passes); range_from/range_to are business time, as the events' `time`.
-- Every change is also written to audit_log (entity_kind 'incident', entity_key the id)
-- in the same transaction (app/incidents/records.py).

CREATE TABLE incidents (
    incident_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title          text NOT NULL CHECK (btrim(title) <> ''),
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_by      text NOT NULL,
    opened_at      timestamptz NOT NULL,
    closed_by      text,
    closed_at      timestamptz,
    range_from     timestamptz NOT NULL,
    range_to       timestamptz NOT NULL,
    summary        text NOT NULL DEFAULT '',
    exception_key  text COLLATE "C" REFERENCES exceptions (key),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT incidents_range_is_forward CHECK (range_from < range_to),
    CONSTRAINT incidents_closed_has_when_and_who CHECK (
        (status = 'closed') = (closed_at IS NOT NULL AND closed_by IS NOT NULL))
);
-- the list: open first, newest first
CREATE INDEX incidents_status_opened ON incidents (status, opened_at DESC);
CREATE INDEX incidents_exception ON incidents (exception_key) WHERE exception_key IS NOT NULL;

CREATE TABLE incident_entities (
    incident_id  bigint NOT NULL REFERENCES incidents (incident_id),
    entity_kind  text NOT NULL
                 CHECK (entity_kind IN ('order', 'position', 'interface', 'source', 'shipment',
                                        'return', 'delivery')),
    entity_key   text COLLATE "C" NOT NULL CHECK (btrim(entity_key) <> ''),
    added_by     text NOT NULL,
    added_at     timestamptz NOT NULL,
    PRIMARY KEY (incident_id, entity_kind, entity_key)
);
-- "which incidents is this order in"
CREATE INDEX incident_entities_entity ON incident_entities (entity_kind, entity_key);

CREATE TABLE incident_notes (
    note_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES incidents (incident_id),
    author       text NOT NULL,
    at           timestamptz NOT NULL,
    text         text NOT NULL CHECK (btrim(text) <> '')
);
CREATE INDEX incident_notes_incident ON incident_notes (incident_id, note_id);

-- append-only: what a reviewer wrote stays as written
CREATE FUNCTION incident_notes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident_notes is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER incident_notes_no_update_or_delete
    BEFORE UPDATE OR DELETE ON incident_notes
    FOR EACH ROW EXECUTE FUNCTION incident_notes_append_only();
CREATE TRIGGER incident_notes_no_truncate
    BEFORE TRUNCATE ON incident_notes
    FOR EACH STATEMENT EXECUTE FUNCTION incident_notes_append_only();
