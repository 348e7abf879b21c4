-- SLA summary (contracts/METRICS.md, "SLA"): one row of counts.
-- Parameters: :as_of, :since, :until (metrics.params.Window), :at_risk_hours (Policies),
-- :at_risk_hours_by_channel (Policies.scoped_params: JSON {channel: hours}; an order whose
-- channel has an entry is at risk by that value, any other by :at_risk_hours).
-- Only events with time <= :as_of count. Python computes breach_rate from the counts.
WITH
-- order_sla_facts: sql/migrations/0004_metric_building_blocks.sql
judged AS (
    SELECT * FROM order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz)) AS f
     WHERE true
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR order_node_at(f.order_id, CAST(:as_of AS timestamptz)) = :node)
       AND (CAST(:region AS text) IS NULL
            OR order_node_at(f.order_id, CAST(:as_of AS timestamptz))
               IN (SELECT l.location_id
                     FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT count(*) FILTER (WHERE NOT cancelled)                          AS orders,
       count(*) FILTER (WHERE delivered_at IS NOT NULL)               AS delivered,
       count(*) FILTER (WHERE cancelled)                              AS cancelled,
       count(*) FILTER (WHERE NOT cancelled AND breached)             AS breached,
       count(*) FILTER (WHERE NOT cancelled
                          AND delivered_at IS NULL
                          AND NOT breached
                          AND NOT shipped
                          AND promised_by - :as_of
                              < COALESCE(CAST(CAST(:at_risk_hours_by_channel AS jsonb) ->> channel
                                              AS double precision),
                                         CAST(:at_risk_hours AS double precision))
                                * interval '1 hour') AS at_risk
  FROM judged
