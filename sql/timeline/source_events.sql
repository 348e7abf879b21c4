-- One source's events with time in [:since, :until) and <= :as_of, the newest :limit.
-- There is no index on source (it would cost every event at ingest): this reads the
-- window's events (partitions and the BRIN index on time narrow it to the window) once.
-- Reading the window backwards in slices was tried and measured slower when arrivals are
-- not in time order (bench/timeline.py: BRIN then narrows nothing and every slice reads
-- the whole window).
SELECT seq, time, received_at, source, type, data::text AS data
  FROM events
 WHERE source = :key
   AND time >= :since AND time < :until AND time <= :as_of
 ORDER BY time DESC, seq DESC
 LIMIT :limit
