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
WITH window_returns AS (  -- returns_in_window: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM returns_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                    CAST(:until AS timestamptz)) AS w
     WHERE (CAST(:node AS text) IS NULL AND CAST(:region AS text) IS NULL)  -- scope: metrics/scoping.py
        OR w.return_id IN (SELECT n.return_id
                             FROM (SELECT DISTINCT ON (data ->> 'return_id') data ->> 'return_id' AS return_id,
                                          location_id
                                     FROM events
                                    WHERE type = 'retail.return.received' AND time <= :as_of
                                    ORDER BY data ->> 'return_id', time, seq) AS n
                            WHERE true
                              AND (CAST(:node AS text) IS NULL OR n.location_id = :node)  -- scope: metrics/scoping.py
                              AND (CAST(:region AS text) IS NULL
                                   OR n.location_id IN (SELECT l.location_id
                                                 FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l)))
)
SELECT
    count(*) AS returns,
    count(restocked_at) AS restocked,
    count(*) FILTER (
        WHERE COALESCE(restocked_at, CAST(:as_of AS timestamptz)) - received_at
              > CAST(:return_to_stock_hours AS double precision) * interval '1 hour'
    ) AS slow_returns
FROM window_returns
