-- One exception as its workflow shows it. :key
SELECT key, type, entity_kind, entity, status, severity, assignee, snoozed_until, resolved_by
  FROM exceptions
 WHERE key = :key
