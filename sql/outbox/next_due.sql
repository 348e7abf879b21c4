-- The next outbox row due at :now, locked (several dispatchers share the work).
SELECT outbox_id, action_id, target_system, endpoint, CAST(command AS text) AS command, command_id, attempts
  FROM outbox
 WHERE status = 'pending' AND next_attempt_at <= :now
 ORDER BY next_attempt_at, outbox_id
 LIMIT 1
   FOR UPDATE SKIP LOCKED
