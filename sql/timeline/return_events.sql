-- One return's events (received, restocked, refunded) up to :as_of (index
-- events_return_ref, migration 0012; the type list is the index's predicate).
SELECT seq, time, received_at, source, type, data::text AS data
  FROM events
 WHERE data ->> 'return_id' = :key
   AND type IN ('retail.return.received', 'retail.return.restocked', 'retail.return.refunded')
   AND time <= :as_of
 ORDER BY time DESC, seq DESC
 LIMIT :limit
