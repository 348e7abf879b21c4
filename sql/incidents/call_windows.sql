-- Failure windows of the attached interfaces and deliveries within an incident's range
-- (metrics/incidents.py, impact). The calls of an interface (of a delivery: those of its
-- interface carrying its correlation id), in (time, seq) order, with time in
-- [:range_from, :range_end) where :range_end = least(range_to, as_of); plus the latest call
-- before :range_from, moved to :range_from, so a failure going on when the range starts
-- opens a window at its start (it is not counted in failed_calls).
-- A failure window is a maximal run of failed calls (status error or timeout) with no ok
-- call between them: it starts at the first failed call's time and ends at the next ok
-- call's time (`recovered_at`), or at :range_end when no ok call follows in the range
-- (`recovered_at` null: still failing at the end of what was seen).
-- Parameters: :kinds, :keys, :interfaces, :correlation_ids (text[], one element a target;
-- a null correlation id: every call of the interface), :range_from, :range_end.
WITH targets AS (
    SELECT DISTINCT entity_kind, entity_key, interface, correlation_id
      FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[]), CAST(:interfaces AS text[]),
                  CAST(:correlation_ids AS text[])) AS t(entity_kind, entity_key, interface, correlation_id)
),
calls AS (
    SELECT t.entity_kind, t.entity_key, e.time, e.seq, false AS carried,
           e.data ->> 'status' IN ('error', 'timeout') AS failed
      FROM targets t
      JOIN events e
        ON e.interface = t.interface
       AND e.type = 'retail.integration.call'
       AND (t.correlation_id IS NULL OR e.data ->> 'correlation_id' = t.correlation_id)
       AND e.time >= CAST(:range_from AS timestamptz)
       AND e.time < CAST(:range_end AS timestamptz)
    UNION ALL
    SELECT t.entity_kind, t.entity_key, CAST(:range_from AS timestamptz), -1, true, b.failed
      FROM targets t
     CROSS JOIN LATERAL (
         SELECT e.data ->> 'status' IN ('error', 'timeout') AS failed
           FROM events e
          WHERE e.interface = t.interface
            AND e.type = 'retail.integration.call'
            AND (t.correlation_id IS NULL OR e.data ->> 'correlation_id' = t.correlation_id)
            AND e.time < CAST(:range_from AS timestamptz)
          ORDER BY e.time DESC, e.seq DESC
          LIMIT 1
     ) AS b
     WHERE CAST(:range_from AS timestamptz) < CAST(:range_end AS timestamptz)
),
grouped AS (  -- each ok call opens a group; the failed calls after it share its group
    SELECT *, count(*) FILTER (WHERE NOT failed)
                  OVER (PARTITION BY entity_kind, entity_key ORDER BY time, seq) AS grp
      FROM calls
),
islands AS (
    SELECT entity_kind, entity_key, grp,
           min(time) AS group_start,
           min(time) FILTER (WHERE failed) AS started_at,
           count(*) FILTER (WHERE failed AND NOT carried) AS failed_calls
      FROM grouped
     GROUP BY entity_kind, entity_key, grp
),
windows AS (
    SELECT *, lead(group_start) OVER (PARTITION BY entity_kind, entity_key ORDER BY grp) AS recovered_at
      FROM islands
)
SELECT entity_kind, entity_key, started_at, recovered_at,
       COALESCE(recovered_at, CAST(:range_end AS timestamptz)) AS ended_at,
       CAST(extract(epoch FROM COALESCE(recovered_at, CAST(:range_end AS timestamptz)) - started_at)
            AS double precision) AS seconds,
       failed_calls
  FROM windows
 WHERE started_at IS NOT NULL
 ORDER BY entity_kind, entity_key, started_at
