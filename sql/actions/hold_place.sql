INSERT INTO holds (location_id, sku, qty, action_id, placed_by, placed_at)
VALUES (:location_id, :sku, :qty, :action_id, :placed_by, :placed_at)
