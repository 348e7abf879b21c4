-- A release whose command failed: the holds it released are active again.
UPDATE holds SET released_at = NULL, released_by = NULL, release_action_id = NULL
 WHERE release_action_id = :release_action_id
