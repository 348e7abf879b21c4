-- erp.inbound_deliveries: appended documents.
INSERT INTO erp.inbound_deliveries (doc_no, delivery_no, plant, eta, items, po_number, transfer_no, created_at, attrs)
SELECT doc_no, delivery_no, plant, eta, items, po_number, transfer_no, created_at, attrs FROM erp_stage_inbound_deliveries
ON CONFLICT (doc_no) DO NOTHING
