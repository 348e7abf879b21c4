-- Each system's quantity of one position at :as_of (contracts/METRICS.md, "Inventory
-- variance"): its latest snapshot at or before :as_of plus that system's adjustments after
-- it, up to :as_of (index events_position).
WITH snap AS (
    SELECT DISTINCT ON (data ->> 'system') data ->> 'system' AS system, time,
           CAST(data ->> 'on_hand' AS bigint) AS on_hand
      FROM events
     WHERE location_id = :location_id AND sku = :sku AND time <= :as_of
       AND type = 'retail.inventory.snapshot'
     ORDER BY data ->> 'system', time DESC, seq DESC
)
SELECT s.system, s.time AS counted_at,
       s.on_hand + COALESCE((SELECT sum(CAST(a.data ->> 'delta' AS bigint))
                               FROM events a
                              WHERE a.location_id = :location_id AND a.sku = :sku
                                AND a.type = 'retail.inventory.adjusted'
                                AND a.data ->> 'system' = s.system
                                AND a.time > s.time AND a.time <= :as_of), 0) AS quantity
  FROM snap s
 ORDER BY s.system
