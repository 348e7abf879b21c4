-- Collectors: the configured sources, their cursors, the run log and their health.
--
-- sources          one row per configured source (from a TOML file, `ctower sources add`).
-- source_cursors   where each source was read up to; moved in the same transaction as the
--                  rows it covers (collectors/runner.py), so it is never ahead of the store.
-- collector_runs   one row per run of a source: counts, status, error, the cursor moved.
-- source_health    per source: up, down (N failures in a row), paused or never succeeded.
--
-- No foreign keys to `sources`: a source can be run from code without being registered
-- (the run log and health still record it).

CREATE TABLE sources (
    name              text COLLATE "C" PRIMARY KEY,
    kind              text        NOT NULL,             -- built-in name or "package.module"
    schedule_seconds  double precision NOT NULL CHECK (schedule_seconds > 0),
    enabled           boolean     NOT NULL DEFAULT true, -- scheduled at all (from the config)
    paused            boolean     NOT NULL DEFAULT false, -- set by an operator (ctower sources pause)
    options           jsonb       NOT NULL DEFAULT '{}',
    mapping           jsonb,                            -- a field map (object) or "module:function" (string)
    system            text,                             -- the system it stands for, for telemetry
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE source_cursors (
    source      text COLLATE "C" PRIMARY KEY,
    cursor      jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    run_id      uuid                                   -- the run that moved it last
);

CREATE TABLE collector_runs (
    run_id         uuid PRIMARY KEY,
    source         text COLLATE "C" NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    status         text NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
    pages          integer NOT NULL DEFAULT 0,
    read           integer NOT NULL DEFAULT 0,        -- native records read
    accepted       integer NOT NULL DEFAULT 0,        -- canonical events stored (telemetry not counted)
    duplicate      integer NOT NULL DEFAULT 0,
    quarantined    integer NOT NULL DEFAULT 0,        -- unmappable or invalid records, conflicts
    attempts       integer NOT NULL DEFAULT 0,        -- fetch attempts, retries included
    error          text,
    cursor_before  jsonb,
    cursor_after   jsonb
);
CREATE INDEX collector_runs_source_started ON collector_runs (source, started_at);

CREATE TABLE source_health (
    source                text COLLATE "C" PRIMARY KEY,
    status                text NOT NULL DEFAULT 'never' CHECK (status IN ('up', 'down', 'paused', 'never')),
    last_run_at           timestamptz,
    last_success_at       timestamptz,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    last_error            text,
    last_event_time       timestamptz                 -- newest business time read from it
);
