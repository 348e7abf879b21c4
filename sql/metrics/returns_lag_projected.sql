-- Return-to-stock lag from return_facts: the figures of returns_lag.sql, exact for any
-- :as_of (as returns_summary_projected.sql).
WITH lags AS (
    SELECT extract(epoch FROM r.restocked_at - r.received_at)::double precision / 3600 AS hours
      FROM return_facts r
     WHERE r.received_at >= :since AND r.received_at < :until AND r.received_at <= :as_of
       AND r.restocked_at <= :as_of
       AND ((CAST(:node AS text) IS NULL AND CAST(:region AS text) IS NULL)  -- scope: return_nodes (0013)
            OR r.return_id IN (SELECT n.return_id FROM return_nodes AS n WHERE true
                               AND (CAST(:node AS text) IS NULL OR n.location_id = :node)  -- scope: metrics/scoping.py
                               AND (CAST(:region AS text) IS NULL
                                    OR n.location_id IN (SELECT l.location_id
                                                  FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))))
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90_hours,
       count(*) AS restocked
FROM lags
