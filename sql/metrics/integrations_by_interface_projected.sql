-- Integration health per interface from call_facts (sql/migrations/0018_call_facts.sql,
-- one narrow row per call): the rows of integrations_by_interface.sql, exact for any
-- :as_of. Calls with time in [:since, :until) and time <= :as_of; failures are 'error' or
-- 'timeout'; latency percentiles linearly interpolated (percentile_cont) over all calls of
-- the interface, as there. :source (scope) keeps the calls of that data.source_system.
SELECT interface,
       count(*) AS calls,
       count(*) FILTER (WHERE status IN ('error', 'timeout')) AS failures,
       (count(*) FILTER (WHERE status IN ('error', 'timeout')))::double precision / count(*) AS failure_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS latency_p95_ms
FROM call_facts
WHERE time >= :since AND time < :until AND time <= :as_of
  AND (CAST(:source AS text) IS NULL OR source_system = :source)  -- scope: metrics/scoping.py
GROUP BY interface
ORDER BY interface
