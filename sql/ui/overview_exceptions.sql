-- The unresolved exceptions of the queue by severity (the queue now: it is not replayed).
SELECT severity,
       count(*) FILTER (WHERE status = 'open')         AS open,
       count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged
FROM exceptions
WHERE status <> 'resolved'
GROUP BY severity
