-- SLA by channel from the projection order_facts: the rows of sla_by_channel.sql, exact for
-- any :as_of (projected_order_sla_facts: sql/migrations/0007_projections.sql).
WITH
judged AS (
    SELECT f.channel, f.breached
      FROM projected_order_sla_facts(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz)) AS f
     WHERE NOT f.cancelled
       AND (CAST(:channel AS text) IS NULL OR f.channel = :channel)  -- scope: metrics/scoping.py
       AND (CAST(:node AS text) IS NULL OR f.node = :node)
       AND (CAST(:region AS text) IS NULL
            OR f.node IN (SELECT l.location_id
                            FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
)
SELECT channel,
       count(*)                                                    AS orders,
       count(*) FILTER (WHERE breached)                            AS breached,
       CAST(count(*) FILTER (WHERE breached) AS double precision) / count(*) AS breach_rate
  FROM judged
 GROUP BY channel
 ORDER BY orders DESC, channel
