-- How many exceptions of the page's list there are per severity: the same rows as
-- ui/exceptions_queue.sql (window, :statuses, :types) before the severity filter, so each
-- severity keeps its count while the list shows a few of them.
SELECT severity, count(*) AS exceptions
FROM exceptions
WHERE (cardinality(CAST(:statuses AS text[])) = 0 OR status = ANY(CAST(:statuses AS text[])))
  AND (cardinality(CAST(:types AS text[])) = 0 OR type = ANY(CAST(:types AS text[])))
  AND last_seen >= :since
  AND first_seen < :until
  AND first_seen <= :as_of
GROUP BY severity
