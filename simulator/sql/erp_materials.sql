-- erp.materials: one row per material, changed in place (a change moves it up change_seq).
INSERT INTO erp.materials (doc_no, material, std_cost, description, mat_group, list_price, changed_at, attrs)
SELECT doc_no, material, std_cost, description, mat_group, list_price, changed_at, attrs FROM erp_stage_materials
ON CONFLICT (material) DO UPDATE SET
    doc_no = EXCLUDED.doc_no,
    std_cost = EXCLUDED.std_cost,
    description = EXCLUDED.description,
    mat_group = EXCLUDED.mat_group,
    list_price = EXCLUDED.list_price,
    changed_at = EXCLUDED.changed_at,
    attrs = EXCLUDED.attrs,
    change_seq = nextval('erp.change_seq')
