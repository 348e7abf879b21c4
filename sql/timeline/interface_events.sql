-- One interface's calls in the window [:since, :until) up to :as_of, the newest :limit
-- (index events_interface).
SELECT seq, time, received_at, source, type, data::text AS data
  FROM events
 WHERE interface = :key
   AND time >= :since AND time < :until AND time <= :as_of
 ORDER BY time DESC, seq DESC
 LIMIT :limit
