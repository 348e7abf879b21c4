-- erp.stock_levels: one row per plant and material, changed in place (a change moves it up change_seq).
INSERT INTO erp.stock_levels (doc_no, plant, material, unrestricted_qty, reserved_qty, counted_at, attrs)
SELECT doc_no, plant, material, unrestricted_qty, reserved_qty, counted_at, attrs FROM erp_stage_stock_levels
ON CONFLICT (plant, material) DO UPDATE SET
    doc_no = EXCLUDED.doc_no,
    unrestricted_qty = EXCLUDED.unrestricted_qty,
    reserved_qty = EXCLUDED.reserved_qty,
    counted_at = EXCLUDED.counted_at,
    attrs = EXCLUDED.attrs,
    change_seq = nextval('erp.change_seq')
