-- Detector sla_at_risk: the orders counted in the SLA figure `at_risk`.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :at_risk_hours (Policies).
-- Lists the entities behind the figure sla.at_risk: the building blocks are shared with
-- sql/metrics/sla_summary.sql (migration 0004;
-- tests/test_detectors.py checks the number of rows equals the figure on the same data).
WITH
-- order_sla_facts: sql/migrations/0004_metric_building_blocks.sql
judged AS (
    SELECT * FROM order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz))
)
SELECT order_id AS entity,
       promised_by,
       promised_by - CAST(:as_of AS timestamptz) AS time_left
  FROM judged
 WHERE NOT cancelled
   AND delivered_at IS NULL
   AND NOT breached
   AND NOT shipped
   AND promised_by - :as_of < CAST(:at_risk_hours AS double precision) * interval '1 hour'
 ORDER BY order_id
