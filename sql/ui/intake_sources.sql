-- Sources by when they were last heard from, most recent first.
SELECT source, last_received_at, last_event_time, received, accepted
FROM source_activity
ORDER BY last_received_at DESC, received DESC, source
LIMIT :limit
