-- erp.goods_receipts: appended documents.
INSERT INTO erp.goods_receipts (doc_no, delivery_no, plant, items, posted_at, attrs)
SELECT doc_no, delivery_no, plant, items, posted_at, attrs FROM erp_stage_goods_receipts
ON CONFLICT (doc_no) DO NOTHING
