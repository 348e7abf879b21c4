-- One exception by its key, its detail (the figures that decided it) as JSON text.
SELECT key, type, entity_kind, entity, status, severity, first_seen, last_seen,
       resolved_at, resolved_by, updated_at, detail::text AS detail
FROM exceptions
WHERE key = :key
