UPDATE outbox
   SET status = 'sent', attempts = attempts + 1, sent_at = :now, sent_after_seq = :after_seq,
       last_error = :note
 WHERE outbox_id = :outbox_id
