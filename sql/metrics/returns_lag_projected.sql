-- Return-to-stock lag from return_facts: the figures of returns_lag.sql, exact for any
-- :as_of (as returns_summary_projected.sql).
WITH lags AS (
    SELECT extract(epoch FROM r.restocked_at - r.received_at)::double precision / 3600 AS hours
      FROM return_facts r
     WHERE r.received_at >= :since AND r.received_at < :until AND r.received_at <= :as_of
       AND r.restocked_at <= :as_of
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90_hours,
       count(*) AS restocked
FROM lags
