-- Detector sla_breach: the orders counted in the SLA figure `breached`.
-- Parameters: :as_of, :since, :until (metrics.params.Window).
-- Lists the entities behind the figure sla.breached: the building blocks are shared with
-- sql/metrics/sla_summary.sql (migration 0004;
-- tests/test_detectors.py checks the number of rows equals the figure on the same data).
WITH
-- order_sla_facts: sql/migrations/0004_metric_building_blocks.sql
judged AS (
    SELECT * FROM order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz))
)
SELECT order_id AS entity,
       promised_by,
       delivered_at,
       COALESCE(delivered_at, CAST(:as_of AS timestamptz)) - promised_by AS late_by
  FROM judged
 WHERE NOT cancelled
   AND breached
 ORDER BY order_id
