-- Detector stale_source (contracts/METRICS.md, "Integration health"): a source from which
-- nothing was received for more than :source_stale_minutes before :as_of (strictly; exactly
-- :source_stale_minutes of silence is not stale).
-- Read from the events, not source_activity.last_received_at: the latest received_at per
-- source with received_at <= :as_of is right for any :as_of, a replay of the past included.
-- (Duplicates are not stored as events, so a source that only resends duplicates looks
-- silent here; source_activity would count it alive.) Only sources heard from by :as_of.
SELECT source AS entity,
       max(received_at) AS last_received_at,
       CAST(:as_of AS timestamptz) - max(received_at) AS silent_for
FROM events
WHERE received_at <= :as_of
GROUP BY source
HAVING CAST(:as_of AS timestamptz) - max(received_at)
       > CAST(:source_stale_minutes AS double precision) * interval '1 minute'
ORDER BY source
