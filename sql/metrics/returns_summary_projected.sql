-- Returns from return_facts (sql/migrations/0007_projections.sql): the figures of
-- returns_summary.sql, exact for any :as_of (a return's first receipt and first restock
-- at :as_of are its earliest ones when those are <= :as_of).
WITH window_returns AS (
    SELECT r.received_at, CASE WHEN r.restocked_at <= :as_of THEN r.restocked_at END AS restocked_at
      FROM return_facts r
     WHERE r.received_at >= :since AND r.received_at < :until AND r.received_at <= :as_of
       AND ((CAST(:node AS text) IS NULL AND CAST(:region AS text) IS NULL)  -- scope: return_nodes (0013)
            OR r.return_id IN (SELECT n.return_id FROM return_nodes AS n WHERE true
                               AND (CAST(:node AS text) IS NULL OR n.location_id = :node)  -- scope: metrics/scoping.py
                               AND (CAST(:region AS text) IS NULL
                                    OR n.location_id IN (SELECT l.location_id
                                                  FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))))
)
SELECT
    count(*) AS returns,
    count(restocked_at) AS restocked,
    count(*) FILTER (
        WHERE COALESCE(restocked_at, CAST(:as_of AS timestamptz)) - received_at
              > CAST(:return_to_stock_hours AS double precision) * interval '1 hour'
    ) AS slow_returns
FROM window_returns
