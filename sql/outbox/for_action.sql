SELECT outbox_id, target_system, endpoint, CAST(command AS text) AS command, command_id, status,
       attempts, next_attempt_at, last_error, sent_at, confirmed_at
  FROM outbox
 WHERE action_id = :action_id
 ORDER BY outbox_id
