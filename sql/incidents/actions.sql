-- The actions taken on an incident's entities in its range (metrics/incidents.py): the
-- audit_log rows with :range_from <= at < :range_to about one of the entities (kind and
-- key), or about one of the incident's exceptions (kind 'exception', key :exception_keys).
-- Parameters: :kinds, :keys (text[], pairwise), :exception_keys (text[]), :range_from, :range_to.
WITH targets AS (
    SELECT kind, key FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[])) AS t(kind, key)
    UNION
    SELECT 'exception', k FROM unnest(CAST(:exception_keys AS text[])) AS k
)
SELECT a.audit_id, a.at, a.actor, a.role, a.action, a.entity_kind, a.entity_key, a.reason
  FROM targets t
  JOIN audit_log a ON a.entity_kind = t.kind AND a.entity_key = t.key
 WHERE a.at >= CAST(:range_from AS timestamptz)
   AND a.at < CAST(:range_to AS timestamptz)
 ORDER BY a.at, a.audit_id
