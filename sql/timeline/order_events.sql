-- One order's events (index events_order of each partition) up to :as_of, the newest
-- :limit of them (the caller keeps :limit and sees one more when there are more).
SELECT seq, time, received_at, source, type, data::text AS data
  FROM events
 WHERE order_id = :key
   AND time <= :as_of
 ORDER BY time DESC, seq DESC
 LIMIT :limit
