-- The intake tiles. Events stored: the sum of event_type_counts (migration 0018, one row per
-- type kept at ingest), which avoids counting every stored event.
SELECT
    (SELECT CAST(COALESCE(sum(events), 0) AS bigint) FROM event_type_counts) AS events,
    (SELECT count(*) FROM quarantine)      AS quarantined,
    (SELECT count(*) FROM ingest_batches)  AS batches,
    (SELECT count(*) FROM source_activity) AS sources,
    (SELECT max(finished_at) FROM ingest_batches) AS last_batch_at
