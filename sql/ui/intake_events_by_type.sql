-- Stored events per canonical type, most frequent first.
SELECT type, count(*) AS events
FROM events
GROUP BY type
ORDER BY events DESC, type
