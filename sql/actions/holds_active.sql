-- Active holds at a position, oldest first. :location_id, :sku
SELECT hold_id, qty, action_id, placed_by, placed_at
  FROM holds
 WHERE location_id = :location_id AND sku = :sku AND released_at IS NULL
 ORDER BY hold_id
