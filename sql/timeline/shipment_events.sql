-- One shipment's events (the order's shipped event, its ASN and receipts) up to :as_of
-- (index events_shipment_ref, migration 0012; the type list is the index's predicate).
SELECT seq, time, received_at, source, type, data::text AS data
  FROM events
 WHERE data ->> 'shipment_id' = :key
   AND type IN ('retail.order.shipped', 'retail.shipment.asn', 'retail.shipment.received')
   AND time <= :as_of
 ORDER BY time DESC, seq DESC
 LIMIT :limit
