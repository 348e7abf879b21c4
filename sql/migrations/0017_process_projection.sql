-- Process projection (issue 7): each order's step sequence kept current at ingest, so the
-- Process page (metrics/process.py, sql/process/*.sql) aggregates one small row per order
-- instead of reading and sorting every order event of the window (process_steps, 0014).
--
-- The definitions are those of 0014 (metrics/process.py): an order's steps are its
-- retail.order.{created, routed, rerouted, picked, packed, shipped, delivered, cancelled,
-- exception} events by (time, seq); consecutive repeats of one step are one step (a run);
-- a step's time is its first event's; the wait on the edge into a step is from the event
-- just before it (the last of the previous run). One row per order holds its runs:
--
--   steps    the step codes, one per run (1 created .. 9 exception: process_step_name)
--   step_at  the time of each run's first event (ascending)
--   waits    hours from the event just before each run (NULL for the first)
--   edges    previous code * 10 + code of each run (NULL for the first): the edge into it
--   nodes    the location_id of each run's first event (NULL: none; the page then uses the
--            order's current node, order_facts.node)
--   created_at, created_seq, source: the earliest retail.order.created (time, then seq), as
--            order_facts.created_at, and its event's source (the scope's source filter)
--   last_time, last_seq: the order's last order event (time, then seq)
--
-- Exact for ANY as_of: events after as_of are a suffix of the (time, seq) order, so an
-- order's steps at as_of are its runs whose step_at <= as_of (a run cut short keeps its
-- first time and its wait). process_orders() below cuts the arrays so.
--
-- Upkeep (apply_process_projection, called per ingest batch after apply_projections by
-- sql/projections/apply_batch.sql, under the same advisory lock), per order of the batch:
-- - no row yet: the runs of the batch's events;
-- - every new event later (time, seq) than the stored last event (the usual case, events
--   arriving in business-time order): the batch's runs appended (its first run merged into
--   the stored last one when they are the same step);
-- - otherwise (an event older than the stored last one): the order's runs recomputed from
--   all its stored events (order_process_runs, index events_order).
-- So the row always equals a recomputation from the stored events, whatever the arrival
-- order (tests/test_process_projection.py).
--
-- The runs are computed twice in SQL (the batch's events set-based in
-- apply_process_projection, one order's events in order_process_runs): keep them alike.

CREATE TABLE order_process (
    order_id     text COLLATE "C" PRIMARY KEY,
    created_at   timestamptz,
    created_seq  bigint,
    source       text COLLATE "C",
    steps        smallint[]    NOT NULL,
    step_at      timestamptz[] NOT NULL,
    waits        float8[]      NOT NULL,
    edges        smallint[]    NOT NULL,
    nodes        text[] COLLATE "C" NOT NULL,
    last_step_at timestamptz   NOT NULL,  -- step_at's last element
    first_time   timestamptz   NOT NULL,  -- the order's first order event (time, then seq)
    first_seq    bigint        NOT NULL,
    last_time    timestamptz   NOT NULL,  -- the order's last order event (time, then seq)
    last_seq     bigint        NOT NULL
);
CREATE INDEX order_process_created ON order_process (created_at);

-- The step of a code and back (metrics/process.py STEPS, in this order).
CREATE FUNCTION process_step_name(p_code integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT (ARRAY['created', 'routed', 'rerouted', 'picked', 'packed', 'shipped', 'delivered', 'cancelled',
                  'exception'])[p_code]
$fn$;

CREATE FUNCTION process_step_code(p_type text) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CAST(array_position(ARRAY['retail.order.created', 'retail.order.routed', 'retail.order.rerouted',
                                     'retail.order.picked', 'retail.order.packed', 'retail.order.shipped',
                                     'retail.order.delivered', 'retail.order.cancelled',
                                     'retail.order.exception'], p_type) AS smallint)
$fn$;

-- A sequence of codes as the page writes it: "created → routed → ...".
CREATE FUNCTION process_variant(p_steps smallint[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT string_agg(process_step_name(c), ' → ' ORDER BY i) FROM unnest(p_steps) WITH ORDINALITY AS u(c, i)
$fn$;

-- One order's row recomputed from all its stored events (index events_order).
CREATE FUNCTION order_process_runs(p_order_id text)
RETURNS TABLE (order_id text, created_at timestamptz, created_seq bigint, source text, steps smallint[],
               step_at timestamptz[], waits float8[], edges smallint[], nodes text[], last_step_at timestamptz,
               first_time timestamptz, first_seq bigint, last_time timestamptz, last_seq bigint)
LANGUAGE sql STABLE AS $fn$
    WITH marked AS (
        SELECT e.time, e.seq, e.location_id, e.source, process_step_code(e.type) AS code,
               lag(process_step_code(e.type)) OVER w AS prev_code,
               lag(e.time) OVER w AS prev_time
          FROM events e
         WHERE e.order_id = p_order_id
           AND e.type IN ('retail.order.created', 'retail.order.routed', 'retail.order.rerouted',
                          'retail.order.picked', 'retail.order.packed', 'retail.order.shipped',
                          'retail.order.delivered', 'retail.order.cancelled', 'retail.order.exception')
        WINDOW w AS (ORDER BY e.time, e.seq)
    )
    SELECT p_order_id,
           (array_agg(time ORDER BY time, seq) FILTER (WHERE code = 1))[1],
           (array_agg(seq ORDER BY time, seq) FILTER (WHERE code = 1))[1],
           (array_agg(source ORDER BY time, seq) FILTER (WHERE code = 1))[1],
           array_agg(code ORDER BY time, seq) FILTER (WHERE prev_code IS DISTINCT FROM code),
           array_agg(time ORDER BY time, seq) FILTER (WHERE prev_code IS DISTINCT FROM code),
           array_agg(CAST(extract(epoch FROM time - prev_time) / 3600.0 AS float8) ORDER BY time, seq)
               FILTER (WHERE prev_code IS DISTINCT FROM code),
           array_agg(CAST(prev_code * 10 + code AS smallint) ORDER BY time, seq)
               FILTER (WHERE prev_code IS DISTINCT FROM code),
           array_agg(location_id ORDER BY time, seq) FILTER (WHERE prev_code IS DISTINCT FROM code),
           max(time) FILTER (WHERE prev_code IS DISTINCT FROM code),
           min(time), (array_agg(seq ORDER BY time, seq))[1],
           max(time), (array_agg(seq ORDER BY time DESC, seq DESC))[1]
      FROM marked
    HAVING count(*) > 0
$fn$;

-- Fold the order events of batches p_first..p_last into order_process (see the top).
CREATE FUNCTION apply_process_projection(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
SELECT pg_advisory_xact_lock(hashtext('ctower.apply_projections'));
WITH marked AS (
    SELECT order_id, time, seq, location_id, source, process_step_code(type) AS code,
           lag(process_step_code(type)) OVER w AS prev_code,
           lag(time) OVER w AS prev_time
      FROM events
     WHERE batch_id BETWEEN p_first AND p_last
       AND order_id IS NOT NULL
       AND type IN ('retail.order.created', 'retail.order.routed', 'retail.order.rerouted',
                    'retail.order.picked', 'retail.order.packed', 'retail.order.shipped',
                    'retail.order.delivered', 'retail.order.cancelled', 'retail.order.exception')
    WINDOW w AS (PARTITION BY order_id ORDER BY time, seq)
),
-- the batch's runs per order in ONE aggregation (no join between rows of the batch)
batch AS (
    SELECT order_id,
           (array_agg(time ORDER BY time, seq) FILTER (WHERE code = 1))[1]   AS created_at,
           (array_agg(seq ORDER BY time, seq) FILTER (WHERE code = 1))[1]    AS created_seq,
           (array_agg(source ORDER BY time, seq) FILTER (WHERE code = 1))[1] AS source,
           array_agg(code ORDER BY time, seq) FILTER (WHERE prev_code IS DISTINCT FROM code) AS steps,
           array_agg(time ORDER BY time, seq) FILTER (WHERE prev_code IS DISTINCT FROM code) AS step_at,
           array_agg(CAST(extract(epoch FROM time - prev_time) / 3600.0 AS float8) ORDER BY time, seq)
               FILTER (WHERE prev_code IS DISTINCT FROM code) AS waits,
           array_agg(CAST(prev_code * 10 + code AS smallint) ORDER BY time, seq)
               FILTER (WHERE prev_code IS DISTINCT FROM code) AS edges,
           array_agg(location_id ORDER BY time, seq) FILTER (WHERE prev_code IS DISTINCT FROM code) AS nodes,
           max(time) FILTER (WHERE prev_code IS DISTINCT FROM code) AS last_step_at,
           min(time) AS first_time,
           (array_agg(seq ORDER BY time, seq))[1] AS first_seq,
           max(time) AS last_time,
           (array_agg(seq ORDER BY time DESC, seq DESC))[1] AS last_seq
      FROM marked
     GROUP BY order_id
),
-- each against its stored row (primary key lookups)
merged AS MATERIALIZED (
    SELECT b.*, s.order_id IS NULL AS fresh,
           s.order_id IS NOT NULL AND (b.first_time, b.first_seq) > (s.last_time, s.last_seq) AS appended,
           s.steps[cardinality(s.steps)] = b.steps[1] AS continues,
           s.created_at AS s_created_at, s.created_seq AS s_created_seq, s.source AS s_source,
           s.steps AS s_steps, s.step_at AS s_step_at, s.waits AS s_waits, s.edges AS s_edges,
           s.nodes AS s_nodes, s.last_step_at AS s_last_step_at, s.first_time AS s_first_time,
           s.first_seq AS s_first_seq, s.last_time AS s_last_time
      FROM batch b
      LEFT JOIN order_process s ON s.order_id = b.order_id
),
folded AS (
    SELECT order_id, created_at, created_seq, source, steps, step_at, waits, edges, nodes, last_step_at,
           first_time, first_seq, last_time, last_seq
      FROM merged
     WHERE fresh
    UNION ALL
    SELECT order_id,
           COALESCE(s_created_at, created_at),
           CASE WHEN s_created_at IS NULL THEN created_seq ELSE s_created_seq END,
           CASE WHEN s_created_at IS NULL THEN source ELSE s_source END,
           s_steps || CASE WHEN continues THEN steps[2:] ELSE steps END,
           s_step_at || CASE WHEN continues THEN step_at[2:] ELSE step_at END,
           s_waits || CASE WHEN continues THEN waits[2:]
                           ELSE CAST(extract(epoch FROM first_time - s_last_time) / 3600.0 AS float8)
                                || waits[2:] END,
           s_edges || CASE WHEN continues THEN edges[2:]
                           ELSE CAST(s_steps[cardinality(s_steps)] * 10 + steps[1] AS smallint) || edges[2:] END,
           s_nodes || CASE WHEN continues THEN nodes[2:] ELSE nodes END,
           CASE WHEN continues AND cardinality(steps) = 1 THEN s_last_step_at ELSE last_step_at END,
           s_first_time, s_first_seq, last_time, last_seq
      FROM merged
     WHERE appended
    UNION ALL
    SELECT r.*
      FROM merged m
     CROSS JOIN LATERAL order_process_runs(m.order_id) AS r
     WHERE NOT m.fresh AND NOT m.appended
)
INSERT INTO order_process AS f (order_id, created_at, created_seq, source, steps, step_at, waits, edges, nodes,
                                last_step_at, first_time, first_seq, last_time, last_seq)
SELECT * FROM folded ORDER BY order_id  -- one lock order for every writer
ON CONFLICT (order_id) DO UPDATE SET
    created_at = excluded.created_at, created_seq = excluded.created_seq, source = excluded.source,
    steps = excluded.steps, step_at = excluded.step_at, waits = excluded.waits, edges = excluded.edges,
    nodes = excluded.nodes, last_step_at = excluded.last_step_at, first_time = excluded.first_time,
    first_seq = excluded.first_seq, last_time = excluded.last_time, last_seq = excluded.last_seq;
$fn$;

-- How many of an order's runs started at or before p_as_of (step_at is ascending).
CREATE FUNCTION process_runs_until(p_step_at timestamptz[], p_as_of timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CAST(count(*) AS integer) FROM unnest(p_step_at) AS t WHERE t <= p_as_of
$fn$;

-- The orders of a window at p_as_of with their steps cut to as_of (see the top), narrowed by
-- the scope (NULL: not narrowed) as process_steps (0014): channel = order_facts.channel,
-- node = its current node (order_facts.node), region = that node's region at p_as_of
-- (locations_in_region, 0013), source = the source of its created event. hours: from
-- created to the last step. An unset channel/node/region reads no order_facts.
CREATE FUNCTION process_orders(p_as_of timestamptz, p_since timestamptz, p_until timestamptz,
                               p_region text, p_channel text, p_node text, p_source text)
RETURNS TABLE (order_id text, created_at timestamptz, steps smallint[], waits float8[], edges smallint[],
               nodes text[], last_step_at timestamptz, hours float8)
LANGUAGE sql STABLE AS $fn$
    SELECT c.order_id, c.created_at, c.steps, c.waits, c.edges, c.nodes, c.last_step_at,
           CAST(extract(epoch FROM c.last_step_at - c.created_at) / 3600.0 AS float8)
      FROM (SELECT p.order_id, p.created_at, p.source,  -- one scan; cut only the orders with steps after as_of
                   CASE WHEN p.last_step_at <= p_as_of THEN p.steps
                        ELSE p.steps[1:process_runs_until(p.step_at, p_as_of)] END AS steps,
                   CASE WHEN p.last_step_at <= p_as_of THEN p.waits
                        ELSE p.waits[1:process_runs_until(p.step_at, p_as_of)] END AS waits,
                   CASE WHEN p.last_step_at <= p_as_of THEN p.edges
                        ELSE p.edges[1:process_runs_until(p.step_at, p_as_of)] END AS edges,
                   CASE WHEN p.last_step_at <= p_as_of THEN p.nodes
                        ELSE p.nodes[1:process_runs_until(p.step_at, p_as_of)] END AS nodes,
                   CASE WHEN p.last_step_at <= p_as_of THEN p.last_step_at
                        ELSE p.step_at[process_runs_until(p.step_at, p_as_of)] END AS last_step_at
              FROM order_process p) AS c
     WHERE c.created_at >= p_since
       AND c.created_at < p_until
       AND c.created_at <= p_as_of
       AND (p_source IS NULL OR c.source = p_source)
       AND (p_region IS NULL AND p_channel IS NULL AND p_node IS NULL
            OR c.order_id IN (SELECT f.order_id
                                FROM order_facts f
                               WHERE (p_channel IS NULL OR f.channel = p_channel)
                                 AND (p_node IS NULL OR f.node = p_node)
                                 AND (p_region IS NULL
                                      OR f.node IN (SELECT location_id FROM locations_in_region(p_as_of, p_region) AS l))))
$fn$;

-- Whether a sequence conforms (metrics/process.py): a prefix of p_expected, or such a
-- prefix (not empty) followed by p_end. The same as the regular expression
-- metrics.process.expected_pattern() over the variant's text.
CREATE FUNCTION process_conforms(p_steps smallint[], p_expected smallint[], p_end smallint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT p_steps = p_expected[1:cardinality(p_steps)]
           OR (cardinality(p_steps) > 1 AND p_steps[cardinality(p_steps)] = p_end
               AND p_steps[1:cardinality(p_steps) - 1] = p_expected[1:cardinality(p_steps) - 1])
$fn$;

CREATE FUNCTION truncate_process_projection() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE order_process;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_process_projection AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_process_projection();

-- Events stored before this migration.
SELECT apply_process_projection(0, 9223372036854775807);
