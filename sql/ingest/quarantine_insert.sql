INSERT INTO quarantine (batch_id, origin, source, record_no, reason_code, reason, event_id, raw, fingerprint)
VALUES (:batch_id, :origin, :source, :record_no, :reason_code, :reason, :event_id, :raw, :fingerprint)
ON CONFLICT (fingerprint) DO NOTHING
