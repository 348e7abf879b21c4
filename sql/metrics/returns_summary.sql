-- Returns (contracts/METRICS.md, "Inbound and returns").
--
-- A return's receipt is its first retail.return.received (by time, then seq) with
-- time <= :as_of; it is in the window when that time is in [:since, :until). Its restock
-- is its first retail.return.restocked (same return_id) with time <= :as_of.
-- returns       returns in the window
-- restocked     of those, with a restock
-- slow_returns  of those, restocked more than :return_to_stock_hours after receipt, or not
--               restocked and received more than :return_to_stock_hours before :as_of
--               (exactly :return_to_stock_hours is not slow)
WITH receipts AS (
    SELECT DISTINCT ON (data->>'return_id') data->>'return_id' AS return_id, time AS received_at
    FROM events
    WHERE type = 'retail.return.received'
      AND time <= :as_of
    ORDER BY data->>'return_id', time, seq
),
restocks AS (
    SELECT DISTINCT ON (data->>'return_id') data->>'return_id' AS return_id, time AS restocked_at
    FROM events
    WHERE type = 'retail.return.restocked'
      AND time <= :as_of
    ORDER BY data->>'return_id', time, seq
),
window_returns AS (
    SELECT r.return_id, r.received_at, s.restocked_at
    FROM receipts AS r
    LEFT JOIN restocks AS s USING (return_id)
    WHERE r.received_at >= :since AND r.received_at < :until
)
SELECT
    count(*) AS returns,
    count(restocked_at) AS restocked,
    count(*) FILTER (
        WHERE COALESCE(restocked_at, CAST(:as_of AS timestamptz)) - received_at
              > CAST(:return_to_stock_hours AS double precision) * interval '1 hour'
    ) AS slow_returns
FROM window_returns
