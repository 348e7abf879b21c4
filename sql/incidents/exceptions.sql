-- The exceptions about an incident's entities that were active in its range
-- (metrics/incidents.py): first_seen < :range_to and last_seen >= :range_from. An entity is
-- matched as the queue names it (kind and entity), a position also by the sku and
-- location_id of the detector's detail (the detectors name positions
-- 'location|sku|system' or 'system|location|sku'), and an interface also by its
-- deliveries (kind 'delivery', the detail's interface).
-- Parameters: :kinds, :keys (text[], pairwise), :range_from, :range_to.
WITH targets AS (
    SELECT DISTINCT kind, key FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[])) AS t(kind, key)
)
SELECT x.key, x.type, x.entity_kind, x.entity, x.status, x.severity, x.first_seen, x.last_seen,
       x.resolved_at, x.resolved_by
  FROM exceptions x
 WHERE x.first_seen < CAST(:range_to AS timestamptz)
   AND x.last_seen >= CAST(:range_from AS timestamptz)
   AND EXISTS (
       SELECT 1
         FROM targets t
        WHERE (t.kind = x.entity_kind AND t.key = x.entity)
           OR (t.kind = 'position' AND x.entity_kind = 'position'
               AND t.key = (x.detail ->> 'sku') || '@' || (x.detail ->> 'location_id'))
           OR (t.kind = 'interface' AND x.entity_kind = 'delivery' AND t.key = x.detail ->> 'interface'))
 ORDER BY x.first_seen, x.key
