INSERT INTO outbox (action_id, target_system, endpoint, command, command_id, next_attempt_at, created_at)
VALUES (:action_id, :target_system, :endpoint, CAST(:command AS jsonb), :command_id, :at, :at)
