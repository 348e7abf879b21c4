-- Return-to-stock lag in hours (contracts/METRICS.md, "Inbound and returns"):
-- restocked time - received time, p50 and p90 (percentile_cont), over the returns received
-- in the window that are restocked by :as_of. Receipt and restock as in returns_summary.sql
-- (the first of each, by time then seq, with time <= :as_of). Null when none is restocked.
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
),
lags AS (
    SELECT extract(epoch FROM restocked_at - received_at)::double precision / 3600 AS hours
      FROM window_returns
     WHERE restocked_at IS NOT NULL
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90_hours,
       count(*) AS restocked
FROM lags
