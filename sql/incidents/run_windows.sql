-- Down windows of the attached collector sources within an incident's range
-- (metrics/incidents.py, impact), from the run log (collector_runs, wall-clock times).
-- Each finished run is one observation at its finished_at: 'failed' is down, 'ok' is up
-- ('skipped' and 'running' say nothing). As with calls (call_windows.sql): the runs
-- finished in [:range_from, :range_end), plus the latest one before :range_from moved to
-- it; a down window is a maximal run of failed runs, from the first one's finish to the
-- next ok run's finish (`recovered_at`), or to :range_end when none follows.
-- Parameters: :sources (text[]), :range_from, :range_end.
WITH targets AS (
    SELECT DISTINCT s AS source FROM unnest(CAST(:sources AS text[])) AS s
),
runs AS (
    SELECT r.source, r.finished_at AS time, false AS carried, r.status = 'failed' AS failed
      FROM targets t
      JOIN collector_runs r
        ON r.source = t.source
       AND r.status IN ('ok', 'failed')
       AND r.finished_at >= CAST(:range_from AS timestamptz)
       AND r.finished_at < CAST(:range_end AS timestamptz)
    UNION ALL
    SELECT t.source, CAST(:range_from AS timestamptz), true, b.failed
      FROM targets t
     CROSS JOIN LATERAL (
         SELECT r.status = 'failed' AS failed
           FROM collector_runs r
          WHERE r.source = t.source AND r.status IN ('ok', 'failed')
            AND r.finished_at < CAST(:range_from AS timestamptz)
          ORDER BY r.finished_at DESC
          LIMIT 1
     ) AS b
     WHERE CAST(:range_from AS timestamptz) < CAST(:range_end AS timestamptz)
),
grouped AS (
    SELECT *, count(*) FILTER (WHERE NOT failed) OVER (PARTITION BY source ORDER BY time, carried DESC) AS grp
      FROM runs
),
islands AS (
    SELECT source, grp, min(time) AS group_start, min(time) FILTER (WHERE failed) AS started_at,
           count(*) FILTER (WHERE failed AND NOT carried) AS failed_runs
      FROM grouped
     GROUP BY source, grp
),
windows AS (
    SELECT *, lead(group_start) OVER (PARTITION BY source ORDER BY grp) AS recovered_at
      FROM islands
)
SELECT 'source' AS entity_kind, source AS entity_key, started_at, recovered_at,
       COALESCE(recovered_at, CAST(:range_end AS timestamptz)) AS ended_at,
       CAST(extract(epoch FROM COALESCE(recovered_at, CAST(:range_end AS timestamptz)) - started_at)
            AS double precision) AS seconds,
       failed_runs AS failed_calls
  FROM windows
 WHERE started_at IS NOT NULL
 ORDER BY source, started_at
