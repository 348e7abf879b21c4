UPDATE actions
   SET status = :status, decided_by = :decided_by, decided_at = :decided_at,
       decision_reason = :decision_reason, error = :error, updated_at = now()
 WHERE action_id = :action_id
