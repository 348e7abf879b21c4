-- The intake tiles. event_keys holds one row per stored event: counting it avoids a scan
-- of every events partition.
SELECT
    (SELECT count(*) FROM event_keys)      AS events,
    (SELECT count(*) FROM quarantine)      AS quarantined,
    (SELECT count(*) FROM ingest_batches)  AS batches,
    (SELECT count(*) FROM source_activity) AS sources,
    (SELECT max(finished_at) FROM ingest_batches) AS last_batch_at
