-- Open transfer recommendations for the Inventory page: retail.transfer.requested events of
-- the window (business time in [:since, :until), known at :as_of) that no ASN names yet and
-- nobody has approved or rejected (actions), newest first; :limit rows. The ASNs of the
-- window are read once (a hash anti-join), not once per recommendation.
WITH shipped AS (
    SELECT DISTINCT a.data ->> 'transfer_id' AS transfer_id
      FROM events a
     WHERE a.type = 'retail.shipment.asn'
       AND a.time >= :since AND a.time <= :as_of
       AND a.data ? 'transfer_id'
)
SELECT r.data ->> 'transfer_id' AS transfer_id, r.time,
       r.data ->> 'from_location' AS from_location, r.data ->> 'to_location' AS to_location,
       r.data ->> 'sku' AS sku, CAST(r.data ->> 'qty' AS integer) AS qty, r.data ->> 'reason' AS reason
  FROM events r
 WHERE r.type = 'retail.transfer.requested'
   AND r.time >= :since AND r.time < :until AND r.time <= :as_of
   AND NOT EXISTS (SELECT 1 FROM shipped s WHERE s.transfer_id = r.data ->> 'transfer_id')
   AND NOT EXISTS (
       SELECT 1 FROM actions x
        WHERE x.kind = 'transfer' AND x.entity_key = r.data ->> 'transfer_id'
          AND x.status IN ('approved', 'sent', 'confirmed')
   )
 ORDER BY r.time DESC, r.data ->> 'transfer_id'
 LIMIT :limit
