-- Inbound (contracts/METRICS.md, "Inbound and returns").
--
-- A shipment's receipt is its first retail.shipment.received (by time, then seq) with
-- time <= :as_of; the shipment is in the window when that receipt's time is in
-- [:since, :until). Its ASN is the latest retail.shipment.asn of the same shipment_id
-- (by time, then seq) strictly before the receipt: a revised ASN replaces the earlier one.
-- asn_late: shipments in the window with no such ASN, or received more than
-- :asn_late_hours after that ASN's expected_at (exactly :asn_late_hours is on time).
WITH receipt_nodes AS (  -- the location of each shipment's first receipt (scope: the node)
    SELECT DISTINCT ON (data ->> 'shipment_id') data ->> 'shipment_id' AS shipment_id, location_id
      FROM events
     WHERE type = 'retail.shipment.received' AND time <= :as_of
     ORDER BY data ->> 'shipment_id', time, seq
),
window_receipts AS (  -- receipts_in_window: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM receipts_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz))
)
SELECT count(*) AS asn_late
FROM window_receipts
WHERE (NOT had_asn
       OR received_at - expected_at > CAST(:asn_late_hours AS double precision) * interval '1 hour')
  AND ((CAST(:node AS text) IS NULL AND CAST(:region AS text) IS NULL)  -- scope: metrics/scoping.py
       OR shipment_id IN (SELECT n.shipment_id FROM receipt_nodes AS n WHERE true
                          AND (CAST(:node AS text) IS NULL OR n.location_id = :node)  -- scope: metrics/scoping.py
                          AND (CAST(:region AS text) IS NULL
                               OR n.location_id IN (SELECT l.location_id
                                             FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))))
