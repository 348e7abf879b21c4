-- An exception's status history (exception_events, append-only), oldest first:
-- created (from '—'), acknowledged, resolved, reopened; by 'auto' or a user.
SELECT at, coalesce(from_status, '—') AS from_status, to_status, by, note
FROM exception_events
WHERE key = :key
ORDER BY event_id
LIMIT :limit
