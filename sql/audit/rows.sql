-- Audit rows for the page and `ctower audit list`, newest first (None: not narrowed).
SELECT audit_id, at, actor, role, action, entity_kind, entity_key, reason,
       before, after, detail
  FROM audit_log
 WHERE (CAST(:since AS timestamptz) IS NULL OR at >= :since)
   AND (CAST(:until AS timestamptz) IS NULL OR at < :until)
   AND (CAST(:actor AS text) IS NULL OR actor = :actor)
   AND (CAST(:action AS text) IS NULL OR action = :action)
   AND (CAST(:entity_kind AS text) IS NULL OR entity_kind = :entity_kind)
   AND (CAST(:entity_key AS text) IS NULL OR entity_key = :entity_key)
 ORDER BY audit_id DESC
 LIMIT :limit
