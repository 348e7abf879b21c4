-- One order's events across systems up to :as_of, in business time order (the partial index
-- events_order (order_id, time) of each partition); :limit rows, data cut to :data_chars.
SELECT time, received_at, source, type, coalesce(location_id, '—') AS node,
       CASE WHEN length(data::text) > :data_chars
            THEN left(data::text, :data_chars) || '…' ELSE data::text END AS data
FROM events
WHERE order_id = :order_id
  AND time <= :as_of
ORDER BY time, seq
LIMIT :limit
