-- The integration calls carrying an order id as correlation_id, up to :as_of: the
-- (interface, correlation_id) rows of delivery_facts (its key, skip-scanned over the few
-- interfaces) give each call's interface and business time, so events_interface finds the
-- calls themselves without reading data->>'correlation_id' of every call.
SELECT e.seq, e.time, e.received_at, e.source, e.type, e.data::text AS data
  FROM delivery_facts d
  JOIN events e
    ON e.interface = d.interface
   AND e.time = ANY(d.call_times)
   AND e.type = 'retail.integration.call'
   AND e.data ->> 'correlation_id' = d.correlation_id
 WHERE d.correlation_id = :key
   AND e.time <= :as_of
 ORDER BY e.time DESC, e.seq DESC
 LIMIT :limit
