-- Known values for the global filters (app/ui/filters.py), from small tables or an index:
-- channels and current nodes of the orders created since :since, and every collector source.
-- Regions: every region a location has been upserted in (location_history, migration 0013).
SELECT DISTINCT 'channel' AS scope, channel AS value
FROM order_facts
WHERE created_at >= :since AND channel IS NOT NULL
UNION
SELECT DISTINCT 'node', node
FROM order_facts
WHERE created_at >= :since AND node IS NOT NULL
UNION
SELECT DISTINCT 'region', region
FROM location_history
WHERE region IS NOT NULL
UNION
SELECT 'source', name FROM sources
UNION
SELECT 'source', source FROM source_health
ORDER BY 1, 2
