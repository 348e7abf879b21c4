-- The action in flight on an entity (pending, approved or sent), if any.
SELECT action_id, kind, status, requested_by, requested_at
  FROM actions
 WHERE entity_kind = :entity_kind AND entity_key = :entity_key
   AND status IN ('pending', 'approved', 'sent')
 ORDER BY action_id
 LIMIT 1
