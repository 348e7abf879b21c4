-- Serialise requests on one entity (two managers on one order take turns).
SELECT pg_advisory_xact_lock(hashtextextended(:entity_kind || ':' || :entity_key, 6906))
