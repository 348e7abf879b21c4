-- The latest quarantined records (newest :limit by arrival, through the primary key), shown
-- by batch and record number, the raw text cut to :raw_chars characters.
SELECT received_at, origin, record_no, source, reason, raw
FROM (
    SELECT
        quarantine_id,
        batch_id,
        received_at,
        origin,
        record_no,
        coalesce(source, '—') AS source,
        reason,
        CASE WHEN length(raw) > :raw_chars THEN left(raw, :raw_chars) || '…' ELSE raw END AS raw
    FROM quarantine
    ORDER BY quarantine_id DESC
    LIMIT :limit
) AS latest
ORDER BY batch_id DESC, record_no DESC, quarantine_id DESC
