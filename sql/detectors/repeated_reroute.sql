-- Detector repeated_reroute: the orders counted in the reroutes figure `repeated`
-- (cancelled orders included, as there).
-- Parameters: :as_of, :since, :until (metrics.params.Window), :repeated_reroute_count (Policies).
-- Lists the entities behind the figure reroutes.repeated: the building blocks are shared with
-- sql/metrics/reroutes_summary.sql (migration 0004;
-- tests/test_detectors.py checks the number of rows equals the figure on the same data).
WITH
per_order AS (  -- order_reroute_counts: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM order_reroute_counts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                       CAST(:until AS timestamptz))
)
SELECT order_id AS entity,
       reroutes,
       cancelled
  FROM per_order
 WHERE reroutes >= :repeated_reroute_count
 ORDER BY order_id
