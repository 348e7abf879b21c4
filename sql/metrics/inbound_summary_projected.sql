-- Inbound from shipment_facts and shipment_asns (sql/migrations/0007_projections.sql): the
-- figure of inbound_summary.sql, exact for any :as_of. A shipment's first receipt at
-- :as_of is its earliest one when that is <= :as_of; its ASN is the latest (time, then
-- seq) strictly before that receipt, so never after :as_of.
WITH receipts AS (
    SELECT s.shipment_id, s.received_at
      FROM shipment_facts s
     WHERE s.received_at >= :since AND s.received_at < :until AND s.received_at <= :as_of
       AND ((CAST(:node AS text) IS NULL AND CAST(:region AS text) IS NULL)  -- scope: shipment_nodes (0013)
            OR s.shipment_id IN (SELECT n.shipment_id FROM shipment_nodes AS n WHERE true
                                 AND (CAST(:node AS text) IS NULL OR n.location_id = :node)  -- scope: metrics/scoping.py
                                 AND (CAST(:region AS text) IS NULL
                                      OR n.location_id IN (SELECT l.location_id
                                                    FROM locations_in_region(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))))
)
SELECT count(*) AS asn_late
  FROM receipts r
  LEFT JOIN LATERAL (SELECT true AS found, a.expected_at
                       FROM shipment_asns a
                      WHERE a.shipment_id = r.shipment_id AND a.time < r.received_at
                      ORDER BY a.time DESC, a.seq DESC
                      LIMIT 1) AS asn ON true
 WHERE asn.found IS NULL
    OR r.received_at - asn.expected_at > CAST(:asn_late_hours AS double precision) * interval '1 hour'
