-- erp.stock_movements: appended documents.
INSERT INTO erp.stock_movements (doc_no, plant, material, qty_change, movement_type, posted_at, attrs)
SELECT doc_no, plant, material, qty_change, movement_type, posted_at, attrs FROM erp_stage_stock_movements
ON CONFLICT (doc_no) DO NOTHING
