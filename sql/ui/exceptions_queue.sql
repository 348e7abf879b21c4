-- The exception queue as the page lists it (metrics/exception_queue.py; contracts/METRICS.md,
-- "Exceptions"): exceptions seen during the window (last seen at or after :since, first seen
-- before :until and at or before :as_of), in their current status. Each of :statuses,
-- :types, :severities filters when it is not empty. Most severe and oldest first, as
-- `ctower exceptions` lists them (:severity_order: the severities, ascending); :limit rows.
SELECT key, severity, status, type, entity_kind, entity, first_seen, last_seen,
       resolved_at, resolved_by
FROM exceptions
WHERE (cardinality(CAST(:statuses AS text[])) = 0 OR status = ANY(CAST(:statuses AS text[])))
  AND (cardinality(CAST(:types AS text[])) = 0 OR type = ANY(CAST(:types AS text[])))
  AND (cardinality(CAST(:severities AS text[])) = 0 OR severity = ANY(CAST(:severities AS text[])))
  AND last_seen >= :since
  AND first_seen < :until
  AND first_seen <= :as_of
ORDER BY array_position(CAST(:severity_order AS text[]), severity) DESC, first_seen, key
LIMIT :limit
