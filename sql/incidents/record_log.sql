-- The incident's own history: its audit rows (opened, entities attached and detached, range
-- set, notes, closed), oldest first. Parameters: :incident_key (the id as text).
SELECT audit_id, at, actor, role, action, reason
  FROM audit_log
 WHERE entity_kind = 'incident' AND entity_key = :incident_key
 ORDER BY audit_id
