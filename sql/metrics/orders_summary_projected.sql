-- The SLA and reroutes summaries together, from the projection order_facts in one scan of
-- the window's orders: the figures of sla_summary.sql and reroutes_summary.sql, exact for
-- any :as_of (projected_order_sla_facts: sql/migrations/0007_projections.sql says why).
-- metrics.sla.summary and metrics.reroutes.summary each read their half; `ctower metrics`
-- and the Overview read both at once (metrics.fulfilment.summaries).
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :at_risk_hours,
-- :at_risk_hours_by_channel, :repeated_reroute_count.
-- orders (not cancelled at :as_of), delivered, cancelled, breached (of the orders), at_risk
-- (of the orders: not delivered, breached nor shipped, due within its channel's at-risk
-- hours); reroutes, rerouted_orders, repeated (of all the window's orders, cancelled too).
SELECT count(*) FILTER (WHERE NOT f.cancelled)                          AS orders,
       count(*) FILTER (WHERE f.delivered_at IS NOT NULL)               AS delivered,
       count(*) FILTER (WHERE f.cancelled)                              AS cancelled,
       count(*) FILTER (WHERE NOT f.cancelled AND f.breached)           AS breached,
       count(*) FILTER (WHERE NOT f.cancelled
                          AND f.delivered_at IS NULL
                          AND NOT f.breached
                          AND NOT f.shipped
                          AND f.promised_by - :as_of
                              < COALESCE(CAST(CAST(:at_risk_hours_by_channel AS jsonb) ->> f.channel
                                              AS double precision),
                                         CAST(:at_risk_hours AS double precision))
                                * interval '1 hour') AS at_risk,
       CAST(COALESCE(sum(f.reroutes), 0) AS bigint)                     AS reroutes,
       count(*) FILTER (WHERE f.reroutes > 0)                           AS rerouted_orders,
       count(*) FILTER (WHERE f.reroutes >= :repeated_reroute_count)    AS repeated
  FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                 CAST(:until AS timestamptz)) AS f
 WHERE true
   AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
   AND (CAST(:node AS text) IS NULL OR f.node = :node)
   AND (CAST(:region AS text) IS NULL
        OR f.node IN (SELECT l.location_id
                        FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
