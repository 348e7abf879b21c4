-- Integration health per interface (contracts/METRICS.md, "Integration health"): calls with
-- time in [:since, :until) and time <= :as_of; failures are 'error' or 'timeout'; latency
-- percentiles linearly interpolated (percentile_cont) over all calls of the interface.
SELECT interface,
       count(*) AS calls,
       count(*) FILTER (WHERE data->>'status' IN ('error', 'timeout')) AS failures,
       (count(*) FILTER (WHERE data->>'status' IN ('error', 'timeout')))::double precision
           / count(*) AS failure_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (data->>'latency_ms')::double precision)
           AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY (data->>'latency_ms')::double precision)
           AS latency_p95_ms
FROM events
WHERE type = 'retail.integration.call'
  AND time >= :since AND time < :until AND time <= :as_of
  AND (CAST(:source AS text) IS NULL OR data->>'source_system' = :source)  -- scope: metrics/scoping.py
GROUP BY interface
ORDER BY interface
