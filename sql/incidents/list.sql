-- Incidents for the list (pages/incidents.py): open first, then closed, newest first.
-- Parameters: :status (null: any), :limit.
SELECT i.incident_id, i.status, i.title, i.opened_by, i.opened_at, i.closed_at, i.range_from,
       i.range_to,
       (SELECT count(*) FROM incident_entities e WHERE e.incident_id = i.incident_id) AS entities,
       (SELECT count(*) FROM incident_notes n WHERE n.incident_id = i.incident_id) AS notes,
       i.exception_key
  FROM incidents i
 WHERE CAST(:status AS text) IS NULL OR i.status = :status
 ORDER BY i.status DESC, i.opened_at DESC, i.incident_id DESC
 LIMIT :limit
