-- Inbound (contracts/METRICS.md, "Inbound and returns").
--
-- A shipment's receipt is its first retail.shipment.received (by time, then seq) with
-- time <= :as_of; the shipment is in the window when that receipt's time is in
-- [:since, :until). Its ASN is the latest retail.shipment.asn of the same shipment_id
-- (by time, then seq) strictly before the receipt: a revised ASN replaces the earlier one.
-- asn_late: shipments in the window with no such ASN, or received more than
-- :asn_late_hours after that ASN's expected_at (exactly :asn_late_hours is on time).
WITH receipts AS (
    SELECT DISTINCT ON (data->>'shipment_id') data->>'shipment_id' AS shipment_id, time
    FROM events
    WHERE type = 'retail.shipment.received'
      AND time <= :as_of
    ORDER BY data->>'shipment_id', time, seq
),
window_receipts AS (
    SELECT * FROM receipts WHERE time >= :since AND time < :until
),
asn_before_receipt AS (
    SELECT DISTINCT ON (r.shipment_id)
           r.shipment_id,
           (a.data->>'expected_at')::timestamptz AS expected_at
    FROM window_receipts AS r
    JOIN events AS a
      ON a.type = 'retail.shipment.asn'
     AND a.data->>'shipment_id' = r.shipment_id
     AND a.time < r.time
    ORDER BY r.shipment_id, a.time DESC, a.seq DESC
)
SELECT count(*) AS asn_late
FROM window_receipts AS r
LEFT JOIN asn_before_receipt AS a USING (shipment_id)
WHERE a.shipment_id IS NULL
   OR r.time - a.expected_at > CAST(:asn_late_hours AS double precision) * interval '1 hour'
