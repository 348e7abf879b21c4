-- A transfer recommendation (its first retail.transfer.requested) and whether it shipped
-- (an ASN naming it). :transfer_id
SELECT r.time, r.data ->> 'from_location' AS from_location, r.data ->> 'to_location' AS to_location,
       r.data ->> 'sku' AS sku, CAST(r.data ->> 'qty' AS integer) AS qty, r.data ->> 'reason' AS reason,
       EXISTS (
           SELECT 1 FROM events a
            WHERE a.type = 'retail.shipment.asn' AND a.time >= r.time
              AND a.data ->> 'transfer_id' = :transfer_id
       ) AS shipped
  FROM events r
 WHERE r.type = 'retail.transfer.requested' AND r.data ->> 'transfer_id' = :transfer_id
 ORDER BY r.time, r.seq
 LIMIT 1
