-- A staging table for one write of erp.inbound_deliveries (COPY into it, then erp_inbound_deliveries.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_inbound_deliveries;
CREATE TEMP TABLE erp_stage_inbound_deliveries ON COMMIT DROP AS
SELECT doc_no, delivery_no, plant, eta, items, po_number, transfer_no, created_at, attrs FROM erp.inbound_deliveries WITH NO DATA;
