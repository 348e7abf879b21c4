SELECT * FROM actions WHERE action_id = :action_id FOR UPDATE
