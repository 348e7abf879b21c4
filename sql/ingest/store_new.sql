-- Store the staged events whose (source, id) is new. The key table is the guard: a key
-- taken by an earlier batch (or a concurrent one) is left alone and classified afterwards.
WITH new_keys AS (
    INSERT INTO event_keys (source, id, time, content_hash, batch_id)
    SELECT source, id, time, content_hash, :batch_id
    FROM ingest_stage
    ON CONFLICT (source, id) DO NOTHING
    RETURNING source, id
)
INSERT INTO events (source, id, type, time, received_at, subject, data, attrs, batch_id, record_no)
SELECT s.source, s.id, s.type, s.time, now(), s.subject, s.data, s.attrs, :batch_id, s.record_no
FROM ingest_stage AS s
JOIN new_keys AS k ON k.source = s.source AND k.id = s.id
