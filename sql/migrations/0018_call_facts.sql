-- Page facts (issue 5, every page under 1 s at 10M events): two small projections kept at
-- ingest by apply_page_facts (sql/projections/apply_batch.sql, in each batch's transaction).
--
-- call_facts: one narrow row per retail.integration.call, keyed by the event's own (time,
-- seq), so arrival order does not matter. The Integrations page's per-interface figures
-- (calls, failures, exact latency p50/p95 with percentile_cont over the window's calls) and
-- the failed deliveries at ANY as_of (the Overview's previous window included) read it
-- instead of the calls' jsonb in `events`.
CREATE TABLE call_facts (
    time           timestamptz NOT NULL,
    seq            bigint      NOT NULL,
    interface      text COLLATE "C" NOT NULL,
    status         text        NOT NULL,
    latency_ms     double precision,
    correlation_id text COLLATE "C",  -- NULL when absent, null or "": such calls form no delivery
    source_system  text COLLATE "C",
    PRIMARY KEY (time, seq)
);

-- event_type_counts: stored events per type (the Data intake page's "Events per type" and
-- "Events stored", instead of counting every row of `events`).
CREATE TABLE event_type_counts (
    type   text COLLATE "C" PRIMARY KEY,
    events bigint NOT NULL
);

CREATE FUNCTION apply_page_facts(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
WITH calls AS (  -- only the calls' jsonb is read
    INSERT INTO call_facts (time, seq, interface, status, latency_ms, correlation_id, source_system)
    SELECT time, seq, interface, data ->> 'status', CAST(data ->> 'latency_ms' AS double precision),
           NULLIF(data ->> 'correlation_id', ''), data ->> 'source_system'
      FROM events
     WHERE batch_id BETWEEN p_first AND p_last
       AND type = 'retail.integration.call' AND interface IS NOT NULL
     ORDER BY 1, 2
    ON CONFLICT DO NOTHING
)
INSERT INTO event_type_counts AS f (type, events)
SELECT type, count(*)
  FROM events
 WHERE batch_id BETWEEN p_first AND p_last
 GROUP BY type
 ORDER BY type
ON CONFLICT (type) DO UPDATE SET events = f.events + excluded.events
$fn$;

-- Failed deliveries (contracts/METRICS.md, "Integration health") from call_facts: the rows
-- of failed_deliveries() (migration 0004), or of failed_deliveries_of_source() (0013) when
-- p_source is not null, for any p_as_of.
CREATE FUNCTION failed_deliveries_from_calls(p_as_of timestamptz, p_since timestamptz, p_until timestamptz,
                                             p_source text)
RETURNS TABLE (interface text, correlation_id text, last_status text, last_call_at timestamptz)
LANGUAGE sql STABLE AS $fn$
    WITH calls AS (  -- read once: calls with a correlation id from p_since up to p_as_of
        SELECT c.interface, c.correlation_id, c.status, c.time, c.seq
          FROM call_facts c
         WHERE c.time >= p_since AND c.time <= p_as_of
           AND c.correlation_id IS NOT NULL
           AND (p_source IS NULL OR c.source_system = p_source)
    )
    SELECT l.interface, l.correlation_id, l.status, l.time
      FROM (SELECT DISTINCT ON (interface, correlation_id) interface, correlation_id, status, time
              FROM calls
             ORDER BY interface, correlation_id, time DESC, seq DESC) AS l
     WHERE l.status <> 'ok'
       AND (l.interface, l.correlation_id) IN (SELECT interface, correlation_id FROM calls
                                                WHERE time < p_until)
$fn$;

CREATE FUNCTION truncate_page_facts() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE call_facts, event_type_counts;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_page_facts AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_page_facts();

-- Events stored before this migration (read directly: a CTE of every event would be written out).
INSERT INTO call_facts (time, seq, interface, status, latency_ms, correlation_id, source_system)
SELECT time, seq, interface, data ->> 'status', CAST(data ->> 'latency_ms' AS double precision),
       NULLIF(data ->> 'correlation_id', ''), data ->> 'source_system'
  FROM events
 WHERE type = 'retail.integration.call' AND interface IS NOT NULL;
INSERT INTO event_type_counts (type, events)
SELECT type, count(*) FROM events GROUP BY type;
