-- How many rows the audit page's filters match (it shows at most a bounded number).
SELECT count(*) AS rows
  FROM audit_log
 WHERE at >= :since AND at < :until
   AND (CAST(:actor AS text) IS NULL OR actor = :actor)
   AND (CAST(:action AS text) IS NULL OR action = :action)
   AND (CAST(:entity_kind AS text) IS NULL OR entity_kind = :entity_kind)
   AND (CAST(:entity_key AS text) IS NULL OR entity_key = :entity_key)
