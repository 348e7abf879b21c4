-- SLA summary from the projection order_facts: the figures of sla_summary.sql, exact for
-- any :as_of (projected_order_sla_facts: sql/migrations/0007_projections.sql says why).
-- Parameters as sla_summary.sql.
WITH
judged AS (
    SELECT * FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                            CAST(:until AS timestamptz)) AS f
     WHERE true
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR f.node = :node)
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                            FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
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
