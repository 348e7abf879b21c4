-- Detector asn_late: the shipments counted in inbound `asn_late`, read as
-- sql/metrics/inbound_summary_projected.sql reads them (a test checks the count agrees):
-- from the projections shipment_facts and shipment_asns, exact for any :as_of (a
-- shipment's first receipt at :as_of is its earliest when that is <= :as_of; its ASN the
-- latest strictly before that receipt). Reading the events instead joined every receipt
-- to the ASNs by a jsonb field: 89 s at 4M events. Entity: shipment_id.
-- Parameters: :as_of, :since, :until, :asn_late_hours.
WITH receipts AS (
    SELECT s.shipment_id, s.received_at
      FROM shipment_facts s
     WHERE s.received_at >= :since AND s.received_at < :until AND s.received_at <= :as_of
)
SELECT r.shipment_id AS entity,
       r.received_at,
       asn.expected_at,
       asn.found IS NOT NULL AS had_asn
  FROM receipts r
  LEFT JOIN LATERAL (SELECT true AS found, a.expected_at
                       FROM shipment_asns a
                      WHERE a.shipment_id = r.shipment_id AND a.time < r.received_at
                      ORDER BY a.time DESC, a.seq DESC
                      LIMIT 1) AS asn ON true
 WHERE asn.found IS NULL
    OR r.received_at - asn.expected_at > CAST(:asn_late_hours AS double precision) * interval '1 hour'
 ORDER BY r.shipment_id
