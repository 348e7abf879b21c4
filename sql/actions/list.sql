-- Actions newest first, with their outbox progress. :status (null: all), :limit
SELECT a.action_id, a.kind, a.entity_kind, a.entity_key, CAST(a.params AS text) AS params, a.reason,
       a.requested_by, a.requested_at, a.value, a.needs_approval, a.status, a.decided_by,
       a.decided_at, a.decision_reason, a.error,
       count(o.outbox_id) AS commands,
       count(o.outbox_id) FILTER (WHERE o.status = 'sent') AS sent,
       count(o.outbox_id) FILTER (WHERE o.status = 'confirmed') AS confirmed,
       count(o.outbox_id) FILTER (WHERE o.status = 'failed') AS failed
  FROM actions a
  LEFT JOIN outbox o ON o.action_id = a.action_id
 WHERE CAST(:status AS text) IS NULL OR a.status = :status
 GROUP BY a.action_id
 ORDER BY a.action_id DESC
 LIMIT :limit
