INSERT INTO ingest_batches (batch_id, run_id, origin, source_label, actor, started_at,
                            first_record, last_record,
                            received, accepted, duplicate, conflict, quarantined)
VALUES (:batch_id, :run_id, :origin, :source_label, :actor, :started_at,
        :first_record, :last_record,
        :received, :accepted, :duplicate, :conflict, :quarantined)
