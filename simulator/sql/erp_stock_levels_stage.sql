-- A staging table for one write of erp.stock_levels (COPY into it, then erp_stock_levels.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_stock_levels;
CREATE TEMP TABLE erp_stage_stock_levels ON COMMIT DROP AS
SELECT doc_no, plant, material, unrestricted_qty, reserved_qty, counted_at, attrs FROM erp.stock_levels WITH NO DATA;
