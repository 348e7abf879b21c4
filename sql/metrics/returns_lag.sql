-- Return-to-stock lag in hours (contracts/METRICS.md, "Inbound and returns"):
-- restocked time - received time, p50 and p90 (percentile_cont), over the returns received
-- in the window that are restocked by :as_of. Receipt and restock as in returns_summary.sql
-- (the first of each, by time then seq, with time <= :as_of). Null when none is restocked.
WITH window_returns AS (  -- returns_in_window: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM returns_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                    CAST(:until AS timestamptz))
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
