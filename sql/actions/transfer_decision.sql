-- The latest decision on a transfer that was not refused or failed. :transfer_id
SELECT action_id, params ->> 'decision' AS decision, requested_by, status
  FROM actions
 WHERE kind = 'transfer' AND entity_key = :transfer_id
   AND status IN ('approved', 'sent', 'confirmed')
 ORDER BY action_id DESC
 LIMIT 1
