UPDATE outbox
   SET attempts = attempts + 1, next_attempt_at = :next_attempt_at, last_error = :error
 WHERE outbox_id = :outbox_id
