-- Stored events per canonical type, most frequent first: from event_type_counts (migration
-- 0018, kept at ingest) instead of counting every row of `events`.
SELECT type, events
FROM event_type_counts
WHERE events > 0
ORDER BY events DESC, type
