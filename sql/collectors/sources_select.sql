SELECT name, kind, schedule_seconds, enabled, paused, options, mapping, system
FROM sources
WHERE (CAST(:names AS text[]) IS NULL OR name = ANY (CAST(:names AS text[])))
  AND (NOT :runnable_only OR (enabled AND NOT paused))
ORDER BY name
