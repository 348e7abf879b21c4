-- Detector sla_at_risk: the orders counted in the SLA figure `at_risk`.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :at_risk_hours (Policies),
-- :at_risk_hours_by_channel (JSON {channel: hours}: the channel's own value where it has one).
-- Lists the entities behind the figure sla.at_risk: the building blocks are shared with
-- sql/metrics/sla_summary.sql (migration 0004;
-- tests/test_detectors.py checks the number of rows equals the figure on the same data).
WITH
-- order_sla_facts: sql/migrations/0004_metric_building_blocks.sql
judged AS (
    SELECT f.*,
           COALESCE(CAST(CAST(:at_risk_hours_by_channel AS jsonb) ->> f.channel AS double precision),
                    CAST(:at_risk_hours AS double precision)) AS at_risk_hours
      FROM order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz)) AS f
)
SELECT order_id AS entity,
       promised_by,
       promised_by - CAST(:as_of AS timestamptz) AS time_left,
       channel,
       at_risk_hours
  FROM judged
 WHERE NOT cancelled
   AND delivered_at IS NULL
   AND NOT breached
   AND NOT shipped
   AND promised_by - :as_of < at_risk_hours * interval '1 hour'
 ORDER BY order_id
