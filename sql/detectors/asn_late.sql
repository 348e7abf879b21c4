-- Detector asn_late: the shipments counted in inbound `asn_late` (receipts_in_window, as in
-- sql/metrics/inbound_summary.sql; a test checks the count agrees). Entity: shipment_id.
-- Parameters: :as_of, :since, :until, :asn_late_hours.
WITH window_receipts AS (  -- receipts_in_window: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM receipts_in_window(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz))
)
SELECT shipment_id AS entity,
       received_at,
       expected_at,
       had_asn
FROM window_receipts
WHERE NOT had_asn
   OR received_at - expected_at > CAST(:asn_late_hours AS double precision) * interval '1 hour'
ORDER BY shipment_id
