-- SLA by channel (contracts/METRICS.md, "SLA", breakdowns): the channel of the created event.
-- Parameters: :as_of, :since, :until (metrics.params.Window).
-- orders and breached as in sla_summary.sql (in the window, not cancelled at :as_of);
-- breach_rate = breached / orders. Sorted by orders, largest first.
WITH
-- order_sla_facts: sql/migrations/0004_metric_building_blocks.sql
judged AS (
    SELECT f.channel,
           f.breached
      FROM order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz)) AS f
     WHERE NOT f.cancelled
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR order_node_at(f.order_id, CAST(:as_of AS timestamptz)) = :node)
       AND (CAST(:region AS text) IS NULL
            OR order_node_at(f.order_id, CAST(:as_of AS timestamptz))
               IN (SELECT l.location_id
                     FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT channel,
       count(*)                                                    AS orders,
       count(*) FILTER (WHERE breached)                            AS breached,
       CAST(count(*) FILTER (WHERE breached) AS double precision) / count(*) AS breach_rate
  FROM judged
 GROUP BY channel
 ORDER BY orders DESC, channel
