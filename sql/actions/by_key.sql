SELECT * FROM actions WHERE idempotency_key = :idempotency_key
