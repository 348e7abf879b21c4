-- Staged events whose key was already stored by another batch, with the stored fingerprint.
SELECT k.source, k.id, k.content_hash
FROM ingest_stage AS s
JOIN event_keys AS k ON k.source = s.source AND k.id = s.id
WHERE k.batch_id <> :batch_id
