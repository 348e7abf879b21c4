-- A staging table for one write of erp.goods_receipts (COPY into it, then erp_goods_receipts.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_goods_receipts;
CREATE TEMP TABLE erp_stage_goods_receipts ON COMMIT DROP AS
SELECT doc_no, delivery_no, plant, items, posted_at, attrs FROM erp.goods_receipts WITH NO DATA;
