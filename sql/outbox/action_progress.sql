-- How far an action's commands got. :action_id
SELECT count(*) AS commands,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'sent') AS sent,
       count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       min(last_error) FILTER (WHERE status = 'failed') AS error
  FROM outbox
 WHERE action_id = :action_id
