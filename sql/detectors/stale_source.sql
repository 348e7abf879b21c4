-- Detector stale_source (contracts/METRICS.md, "Integration health"): a source from which
-- nothing was received for more than :source_stale_minutes before :as_of (strictly; exactly
-- :source_stale_minutes of silence is not stale). Only sources heard from by :as_of.
--
-- source_activity.last_received_at (any valid record, duplicates included: a source that
-- resends is alive) is the answer for every source not heard from since :as_of: on a live
-- run, all of them, at the cost of one row a source. Only sources heard from after :as_of
-- (a replay of the past) are looked up in the stored events, restricted to those sources.
WITH live AS (
    SELECT source, last_received_at
      FROM source_activity
     WHERE last_received_at <= :as_of
),
replayed AS (
    SELECT e.source, max(e.received_at) AS last_received_at
      FROM events e
     WHERE e.received_at <= :as_of
       AND e.source IN (SELECT source FROM source_activity WHERE last_received_at > :as_of)
     GROUP BY e.source
),
heard AS (
    SELECT * FROM live
    UNION ALL
    SELECT * FROM replayed
)
SELECT source AS entity,
       last_received_at,
       CAST(:as_of AS timestamptz) - last_received_at AS silent_for
  FROM heard
 WHERE CAST(:as_of AS timestamptz) - last_received_at
       > CAST(:source_stale_minutes AS double precision) * interval '1 minute'
 ORDER BY source
