-- One position's events (every system's counts and adjustments, returns, transfers at the
-- location for the sku) up to :as_of, the newest :limit (index events_position).
SELECT seq, time, received_at, source, type, data::text AS data
  FROM events
 WHERE location_id = :location_id
   AND sku = :sku
   AND time <= :as_of
 ORDER BY time DESC, seq DESC
 LIMIT :limit
