-- Failed deliveries (the latest call of an interface + correlation_id is error or timeout)
-- matching a filter, oldest first: what a retry resends. The latest call's error_code
-- comes from its event. :interface, :correlation_id, :error_code, :since, :until (nulls:
-- not narrowed; since inclusive, until exclusive, on the latest call's time), :limit
SELECT d.interface, d.correlation_id, d.last_status, d.last_call_at,
       e.data ->> 'error_code' AS error_code, cardinality(d.call_times) AS calls
  FROM delivery_facts d
  LEFT JOIN events e
         ON e.interface = d.interface AND e.time = d.last_call_at AND e.seq = d.last_seq
 WHERE d.last_status <> 'ok'
   AND (CAST(:interface AS text) IS NULL OR d.interface = :interface)
   AND (CAST(:correlation_id AS text) IS NULL OR d.correlation_id = :correlation_id)
   AND (CAST(:since AS timestamptz) IS NULL OR d.last_call_at >= :since)
   AND (CAST(:until AS timestamptz) IS NULL OR d.last_call_at < :until)
   AND (CAST(:error_code AS text) IS NULL OR e.data ->> 'error_code' = :error_code)
 ORDER BY d.last_call_at, d.interface, d.correlation_id
 LIMIT :limit
