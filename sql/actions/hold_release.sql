-- Release every active hold at a position (release_hold without qty), or undo the holds an
-- action placed (:action_id set) when its command failed.
UPDATE holds
   SET released_at = :at, released_by = :by, release_action_id = :release_action_id
 WHERE location_id = :location_id AND sku = :sku AND released_at IS NULL
   AND (CAST(:action_id AS bigint) IS NULL OR action_id = :action_id)
