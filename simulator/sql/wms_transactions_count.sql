-- Transactions after an id, counted up to the window one listing covers (:cap).
SELECT count(*) FROM (
    SELECT 1 FROM sim.wms_transactions WHERE seq > :since_id ORDER BY seq LIMIT :cap
) AS waiting
