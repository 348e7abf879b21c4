-- Detector slow_return: the returns counted in returns `slow_returns` (returns_in_window, as in
-- sql/metrics/returns_summary.sql; a test checks the count agrees). Entity: return_id.
-- Parameters: :as_of, :since, :until, :return_to_stock_hours.
WITH window_returns AS (  -- returns_in_window: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM returns_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                    CAST(:until AS timestamptz))
)
SELECT return_id AS entity,
       received_at,
       restocked_at,
       COALESCE(restocked_at, CAST(:as_of AS timestamptz)) - received_at AS lag
FROM window_returns
WHERE COALESCE(restocked_at, CAST(:as_of AS timestamptz)) - received_at
      > CAST(:return_to_stock_hours AS double precision) * interval '1 hour'
ORDER BY return_id
