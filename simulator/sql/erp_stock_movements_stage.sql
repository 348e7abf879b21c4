-- A staging table for one write of erp.stock_movements (COPY into it, then erp_stock_movements.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_stock_movements;
CREATE TEMP TABLE erp_stage_stock_movements ON COMMIT DROP AS
SELECT doc_no, plant, material, qty_change, movement_type, posted_at, attrs FROM erp.stock_movements WITH NO DATA;
