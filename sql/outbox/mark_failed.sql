UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = :error
 WHERE outbox_id = :outbox_id
