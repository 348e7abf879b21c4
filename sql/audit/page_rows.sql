-- The audit page (pages/audit.py): rows in [:since, :until) with the chosen actor, action
-- and entity (None: any), newest first, at most :limit; JSON columns as text for display
-- and CSV.
SELECT audit_id, at, actor, role, action, entity_kind, entity_key, reason,
       before::text AS before, after::text AS after, detail::text AS detail
  FROM audit_log
 WHERE at >= :since AND at < :until
   AND (CAST(:actor AS text) IS NULL OR actor = :actor)
   AND (CAST(:action AS text) IS NULL OR action = :action)
   AND (CAST(:entity_kind AS text) IS NULL OR entity_kind = :entity_kind)
   AND (CAST(:entity_key AS text) IS NULL OR entity_key = :entity_key)
 ORDER BY audit_id DESC
 LIMIT :limit
