-- Detector integration_failure (contracts/METRICS.md, "Exceptions"), two kinds of entity:
--
-- interface  calls with time in [:as_of - 1 hour, :as_of] (the last hour before as_of, both
--            ends included): at least :interface_min_calls calls and a failure rate
--            (status 'error' or 'timeout') strictly over :interface_failure_rate.
-- delivery   'interface|correlation_id' of the failed deliveries of the window: the pairs
--            counted in integrations `failed_deliveries` (the same rule as
--            sql/metrics/integrations_summary.sql; a test checks the count agrees).
--            An interface with its own interface_failure_rate or interface_min_calls
--            (:interface_failure_rate_by_interface, :interface_min_calls_by_interface: JSON
--            {interface: value}) is judged by it; any other by the deployment value.
-- Parameters: :as_of, :since, :until, :interface_failure_rate, :interface_min_calls,
-- :interface_failure_rate_by_interface, :interface_min_calls_by_interface.
WITH calls_last_hour AS (
    SELECT interface,
           count(*) AS calls,
           count(*) FILTER (WHERE data->>'status' IN ('error', 'timeout')) AS failures
    FROM events
    WHERE type = 'retail.integration.call'
      AND time >= CAST(:as_of AS timestamptz) - interval '1 hour'
      AND time <= CAST(:as_of AS timestamptz)
    GROUP BY interface
),
last_hour AS (
    SELECT c.*,
           COALESCE(CAST(CAST(:interface_failure_rate_by_interface AS jsonb) ->> c.interface AS double precision),
                    CAST(:interface_failure_rate AS double precision)) AS failure_rate_limit,
           COALESCE(CAST(CAST(:interface_min_calls_by_interface AS jsonb) ->> c.interface AS double precision),
                    CAST(:interface_min_calls AS double precision)) AS min_calls
    FROM calls_last_hour AS c
)

SELECT 'interface' AS entity_kind,
       h.interface AS entity,
       h.interface,
       CAST(NULL AS text) AS correlation_id,
       h.calls,
       h.failures,
       CAST(h.failures AS double precision) / h.calls AS failure_rate,
       CAST(NULL AS text) AS last_status,
       CAST(NULL AS timestamptz) AS last_call_at
FROM last_hour AS h
WHERE h.calls >= h.min_calls
  AND CAST(h.failures AS double precision) / h.calls > h.failure_rate_limit
UNION ALL
SELECT 'delivery',
       f.interface || '|' || f.correlation_id,
       f.interface,
       f.correlation_id,
       NULL,
       NULL,
       NULL,
       f.last_status,
       f.last_call_at
FROM failed_deliveries(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),  -- migration 0004
                       CAST(:until AS timestamptz)) AS f
ORDER BY 1, 2
