UPDATE actions SET status = :status, error = :error, updated_at = now()
 WHERE action_id = :action_id
