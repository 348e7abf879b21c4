-- Governed manual overrides (app/actions, app/outbox).
--
-- actions   one row per request of a manager: what (kind, entity, params), why (reason,
--           never blank), who and when, its value and whether a second manager must
--           approve it, the state the requester was shown (seen + its fingerprint), the
--           decision, and its life: pending -> approved -> sent -> confirmed, or rejected,
--           or failed (with the error). Local actions (the exception workflow, pausing a
--           source) are applied in the request's transaction and go straight to confirmed.
--           idempotency_key: the same key again returns the same action (a double click
--           applies once). At most one action per entity is in flight (pending, approved or
--           sent) at a time: the partial unique index below is the last word when two
--           managers act on one order at once.
-- outbox    the commands an action sends to the system that owns the entity, written in
--           the same transaction as the action's approval and its audit row; sent by the
--           dispatcher (app/outbox) with backoff, confirmed when the effect comes back as a
--           collected event (events.seq after sent_after_seq).
-- holds     stock held back from promising at a position (ATP = quantity - active holds).
-- exceptions.assignee / snoozed_until: the exception workflow (app/actions/exceptions.py).

CREATE TABLE actions (
    action_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              text        NOT NULL,
    entity_kind       text        NOT NULL,
    entity_key        text COLLATE "C" NOT NULL,
    params            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    reason            text        NOT NULL,
    requested_by      text        NOT NULL,
    requested_role    text        NOT NULL,
    requested_at      timestamptz NOT NULL,
    value             numeric,                         -- units x unit cost, or the order's value
    needs_approval    boolean     NOT NULL,
    status            text        NOT NULL
                      CHECK (status IN ('pending', 'approved', 'rejected', 'sent', 'confirmed', 'failed')),
    idempotency_key   text COLLATE "C" NOT NULL UNIQUE,
    seen              jsonb       NOT NULL DEFAULT '{}'::jsonb,   -- the state the requester was shown
    seen_fingerprint  text        NOT NULL,                       -- sha256 of its canonical JSON
    decided_by        text,
    decided_at        timestamptz,
    decision_reason   text,
    error             text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT actions_reason_not_blank CHECK (btrim(reason) <> ''),
    CONSTRAINT actions_four_eyes CHECK (decided_by IS NULL OR decided_by <> requested_by OR NOT needs_approval),
    CONSTRAINT actions_decided_together CHECK ((decided_by IS NULL) = (decided_at IS NULL))
);
CREATE INDEX actions_status ON actions (status, requested_at);
CREATE INDEX actions_entity ON actions (entity_kind, entity_key, action_id);
CREATE UNIQUE INDEX actions_one_in_flight_per_entity
    ON actions (entity_kind, entity_key) WHERE status IN ('pending', 'approved', 'sent');

CREATE TABLE outbox (
    outbox_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id        bigint      NOT NULL REFERENCES actions (action_id),
    target_system    text        NOT NULL,
    endpoint         text        NOT NULL,             -- path on the system's base URL
    command          jsonb       NOT NULL,
    command_id       text COLLATE "C" NOT NULL UNIQUE,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'confirmed', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    sent_after_seq   bigint,                           -- events_seq when it was sent
    confirmed_at     timestamptz,
    confirmed_by     bigint,                           -- events.seq of the effect
    CONSTRAINT outbox_command_has_its_id CHECK (command ->> 'command_id' = command_id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE status = 'sent';
CREATE INDEX outbox_action ON outbox (action_id);

CREATE TABLE holds (
    hold_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id        text COLLATE "C" NOT NULL,
    sku                text COLLATE "C" NOT NULL,
    qty                integer     NOT NULL CHECK (qty > 0),
    action_id          bigint      NOT NULL REFERENCES actions (action_id),
    placed_by          text        NOT NULL,
    placed_at          timestamptz NOT NULL,
    released_at        timestamptz,
    released_by        text,
    release_action_id  bigint REFERENCES actions (action_id)
);
CREATE INDEX holds_active ON holds (location_id, sku) WHERE released_at IS NULL;

ALTER TABLE exceptions
    ADD COLUMN assignee      text,
    ADD COLUMN snoozed_until timestamptz;
