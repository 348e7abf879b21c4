-- The latest ingest batches with their counts (received = accepted + duplicate + quarantined).
SELECT origin, finished_at, received, accepted, duplicate, conflict, quarantined
FROM ingest_batches
ORDER BY finished_at DESC, batch_id DESC
LIMIT :limit
