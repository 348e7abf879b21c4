-- The status changes (raised, acknowledged, resolved, reopened) up to :as_of of the
-- exceptions of the given (entity_kind, entity) pairs (index exceptions_entity, 0012).
SELECT x.key, x.type, x.entity_kind, x.entity, x.severity, x.status,
       h.event_id, h.at, h.from_status, h.to_status, h.by, h.note
  FROM exceptions x
  JOIN exception_events h ON h.key = x.key
 WHERE (x.entity_kind, x.entity) IN (SELECT k, e FROM unnest(CAST(:kinds AS text[]), CAST(:entities AS text[])) AS u(k, e))
   AND h.at <= :as_of
 ORDER BY h.at, h.event_id
