-- The manual actions on the given (entity_kind, entity_key) pairs up to :as_of, from the
-- audit log (migration 0010; index audit_log_entity). Run only when audit_log exists.
SELECT audit_id, at, actor, role, action, entity_kind, entity_key, reason
  FROM audit_log
 WHERE (entity_kind, entity_key) IN (SELECT k, e FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[])) AS u(k, e))
   AND at <= :as_of
 ORDER BY at, audit_id
