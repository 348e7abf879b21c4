-- The latest collector runs (collector_runs), newest first: at most :limit per source, read
-- through the index collector_runs_source_started, then the newest :limit of those.
-- :source, when not null, keeps that source's runs only. duration_s is null while a run is
-- still going.
SELECT r.source, r.started_at, r.status, r.read, r.accepted, r.duplicate, r.quarantined,
       extract(epoch FROM r.finished_at - r.started_at)::double precision AS duration_s,
       r.error
FROM (SELECT name FROM sources UNION SELECT source FROM source_health) AS s
CROSS JOIN LATERAL (
    SELECT *
    FROM collector_runs AS c
    WHERE c.source = s.name
    ORDER BY c.started_at DESC
    LIMIT :limit
) AS r
WHERE CAST(:source AS text) IS NULL OR s.name = :source
ORDER BY r.started_at DESC, r.source
LIMIT :limit
