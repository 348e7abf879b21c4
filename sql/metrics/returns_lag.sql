-- Return-to-stock lag in hours (contracts/METRICS.md, "Inbound and returns"):
-- restocked time - received time, p50 and p90 (percentile_cont), over the returns received
-- in the window that are restocked by :as_of. Receipt and restock as in returns_summary.sql
-- (the first of each, by time then seq, with time <= :as_of). Null when none is restocked.
WITH receipts AS (
    SELECT DISTINCT ON (data->>'return_id') data->>'return_id' AS return_id, time AS received_at
    FROM events
    WHERE type = 'retail.return.received'
      AND time <= :as_of
    ORDER BY data->>'return_id', time, seq
),
restocks AS (
    SELECT DISTINCT ON (data->>'return_id') data->>'return_id' AS return_id, time AS restocked_at
    FROM events
    WHERE type = 'retail.return.restocked'
      AND time <= :as_of
    ORDER BY data->>'return_id', time, seq
),
lags AS (
    SELECT extract(epoch FROM s.restocked_at - r.received_at)::double precision / 3600 AS hours
    FROM receipts AS r
    JOIN restocks AS s USING (return_id)
    WHERE r.received_at >= :since AND r.received_at < :until
)
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90_hours,
       count(*) AS restocked
FROM lags
