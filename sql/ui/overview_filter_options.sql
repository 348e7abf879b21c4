-- Known values for the global filters (app/ui/filters.py), from small tables or an index,
-- never a scan of the orders:
-- channels: the contract's (contracts/EVENTS.md) and those of the orders created since :recent;
-- nodes: every location ever upserted (location_history, migration 0013) and the current
-- nodes of the orders created since :recent (a node no location event names, e.g. an
-- imported log's); regions: every region a location has been in; every collector source.
SELECT 'channel' AS scope, value
FROM (VALUES ('web'), ('store'), ('marketplace'), ('phone')) AS contract (value)
UNION
SELECT DISTINCT 'channel', channel
FROM order_facts
WHERE created_at >= :recent AND channel IS NOT NULL
UNION
SELECT DISTINCT 'node', location_id
FROM location_history
UNION
SELECT DISTINCT 'node', node
FROM order_facts
WHERE created_at >= :recent AND node IS NOT NULL
UNION
SELECT DISTINCT 'region', region
FROM location_history
WHERE region IS NOT NULL
UNION
SELECT 'source', name FROM sources
UNION
SELECT 'source', source FROM source_health
ORDER BY 1, 2
