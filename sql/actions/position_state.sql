-- One position (sku at a location) as a hold or an adjustment shows it: each system's
-- quantity (latest snapshot plus later adjustments) and when it last changed. :location_id, :sku
SELECT system, quantity, last_event_at
  FROM position_facts
 WHERE location_id = :location_id AND sku = :sku
 ORDER BY system
