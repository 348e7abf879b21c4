-- One delivery's calls (interface, correlation id) from :since up to :as_of, the window a
-- failed delivery is judged in (failed_deliveries(), migration 0004), through the partial
-- index events_interface (interface, time); :limit rows.
SELECT time, received_at, source, data->>'status' AS status,
       CAST(data->>'latency_ms' AS double precision) AS latency_ms,
       CAST(data->>'http_status' AS integer) AS http_status,
       data->>'error_code' AS error_code,
       CAST(data->>'attempt' AS integer) AS attempt
FROM events
WHERE type = 'retail.integration.call'
  AND interface = :interface
  AND time >= :since AND time <= :as_of
  AND data->>'correlation_id' = :correlation_id
ORDER BY time, seq
LIMIT :limit
