-- Lookups for the timeline of one entity (metrics/timeline.py, pages/entity.py).
--
-- Orders, positions and interfaces have extracted, indexed columns (0001). Shipments and
-- returns do not: their id is only in `data`. Two small partial expression indexes find
-- them; each covers only the event types that carry the id (shipped, ASN and receipt; the
-- three return types: about 16 in 100 events of the generated retail mix), so the other
-- events pay only the predicate test at ingest (bench/timeline.py --ingest-cost: within
-- the run-to-run noise of a shared 2-core machine at 200k events).
CREATE INDEX events_shipment_ref ON events ((data ->> 'shipment_id'), time)
    WHERE type IN ('retail.order.shipped', 'retail.shipment.asn', 'retail.shipment.received');
CREATE INDEX events_return_ref ON events ((data ->> 'return_id'), time)
    WHERE type IN ('retail.return.received', 'retail.return.restocked', 'retail.return.refunded');

-- The exceptions of one entity (the queue is indexed by status and type only).
CREATE INDEX exceptions_entity ON exceptions (entity_kind, entity);
