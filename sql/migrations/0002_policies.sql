-- Governed metric policies (contracts/METRICS.md: "Thresholds are policies").
--
-- policies        the overrides only; the defaults stay in code (metrics/params.py). One row
--                 per (name, scope, scope_value): scope 'deployment' (scope_value '') or a
--                 channel, node kind or interface (which policy may take which scope:
--                 metrics/policies.py). `value` is the typed JSON value (a number or a string).
-- policy_changes  append-only history of every set and reset: who, when, what, old and new
--                 value (NULL old: there was no override; NULL new: the override was removed),
--                 and why. Written in the same transaction as the change to `policies`.

CREATE TABLE policies (
    name         text COLLATE "C" NOT NULL,
    scope        text COLLATE "C" NOT NULL,
    scope_value  text COLLATE "C" NOT NULL DEFAULT '',
    value        jsonb       NOT NULL,
    reason       text        NOT NULL,
    changed_by   text        NOT NULL,             -- user@host
    changed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, scope, scope_value),
    CONSTRAINT policies_scope CHECK (scope IN ('deployment', 'channel', 'node_kind', 'interface')),
    CONSTRAINT policies_scope_value CHECK ((scope = 'deployment') = (scope_value = '')),
    CONSTRAINT policies_reason CHECK (btrim(reason) <> '')
);

CREATE TABLE policy_changes (
    change_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    changed_by   text        NOT NULL,
    name         text COLLATE "C" NOT NULL,
    scope        text COLLATE "C" NOT NULL,
    scope_value  text COLLATE "C" NOT NULL,
    old_value    jsonb,
    new_value    jsonb,
    reason       text        NOT NULL,
    CONSTRAINT policy_changes_scope CHECK (scope IN ('deployment', 'channel', 'node_kind', 'interface')),
    CONSTRAINT policy_changes_something CHECK (old_value IS NOT NULL OR new_value IS NOT NULL),
    CONSTRAINT policy_changes_reason CHECK (btrim(reason) <> '')
);
CREATE INDEX policy_changes_policy ON policy_changes (name, scope, scope_value, change_id);

-- append-only: history is never rewritten
CREATE FUNCTION policy_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policy_changes is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER policy_changes_no_update_or_delete
    BEFORE UPDATE OR DELETE ON policy_changes
    FOR EACH ROW EXECUTE FUNCTION policy_changes_append_only();
CREATE TRIGGER policy_changes_no_truncate
    BEFORE TRUNCATE ON policy_changes
    FOR EACH STATEMENT EXECUTE FUNCTION policy_changes_append_only();
