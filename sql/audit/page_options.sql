-- The choices of the audit page's filters: who and what appear in [:since, :until).
SELECT 'actor' AS field, actor AS value FROM audit_log WHERE at >= :since AND at < :until
UNION
SELECT 'action', action FROM audit_log WHERE at >= :since AND at < :until
UNION
SELECT 'entity_kind', entity_kind FROM audit_log WHERE at >= :since AND at < :until
ORDER BY 1, 2
