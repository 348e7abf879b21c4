-- Past figures: a window's figures as of an instant in the past, kept once computed
-- (metrics/past.py). Figures as of T are computed from the events with time <= T only
-- (contracts/METRICS.md), so they change only when a batch stores an event with time <= T
-- (a late event). Each batch that stores events notes the earliest business time among
-- them in batch_horizons, numbered in the order the batches commit; a kept figure remembers
-- the last number it had seen, and is still right while no later batch has an event at or
-- before its as_of. The Overview's previous window (as of a quarter hour seven days back)
-- is the main user: its inventory replay is the dearest figure of the page.
--
-- The numbers are drawn under the projections' advisory lock (apply_projections takes it
-- first in the same transaction, and every batch with new events takes it), so batches
-- that store events commit in the order of their numbers: a batch not yet visible to a
-- reader's snapshot has a number above every batch visible to it.

CREATE SEQUENCE batch_horizon_seq;

CREATE TABLE batch_horizons (
    number   bigint PRIMARY KEY,
    batch_id bigint NOT NULL,
    earliest timestamptz NOT NULL  -- the earliest business time among the batch's new events
);

CREATE TABLE past_figures (
    key         text PRIMARY KEY,  -- what was computed: the window, scope and policies (metrics/past.py)
    as_of       timestamptz NOT NULL,
    horizon     bigint NOT NULL,   -- the last batch_horizons number seen when computed
    figures     jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX past_figures_computed ON past_figures (computed_at);

-- Note one batch's earliest business time (per ingest batch, sql/projections/apply_batch.sql).
CREATE FUNCTION note_batch_horizon(p_batch bigint) RETURNS void
LANGUAGE sql AS $fn$
SELECT pg_advisory_xact_lock(hashtext('ctower.apply_projections'));
INSERT INTO batch_horizons (number, batch_id, earliest)
SELECT nextval('batch_horizon_seq'), p_batch, min(e.time)
  FROM events e
 WHERE e.batch_id = p_batch
HAVING min(e.time) IS NOT NULL;
$fn$;

CREATE FUNCTION truncate_past_figures() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE batch_horizons, past_figures;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_past_figures AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_past_figures();

-- Batches stored before this migration, in their order.
INSERT INTO batch_horizons (number, batch_id, earliest)
SELECT nextval('batch_horizon_seq'), b.batch_id, b.earliest
  FROM (SELECT e.batch_id, min(e.time) AS earliest FROM events e GROUP BY e.batch_id ORDER BY e.batch_id) AS b;
