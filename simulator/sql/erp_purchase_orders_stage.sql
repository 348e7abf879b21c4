-- A staging table for one write of erp.purchase_orders (COPY into it, then erp_purchase_orders.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_purchase_orders;
CREATE TEMP TABLE erp_stage_purchase_orders ON COMMIT DROP AS
SELECT doc_no, po_number, material, vendor, order_qty, delivery_date, status_code, changed_at, attrs FROM erp.purchase_orders WITH NO DATA;
