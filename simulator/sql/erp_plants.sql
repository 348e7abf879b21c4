-- erp.plants: one row per plant, changed in place (a change moves it up change_seq).
INSERT INTO erp.plants (doc_no, plant, plant_type, region, name1, capacity_per_day, changed_at, attrs)
SELECT doc_no, plant, plant_type, region, name1, capacity_per_day, changed_at, attrs FROM erp_stage_plants
ON CONFLICT (plant) DO UPDATE SET
    doc_no = EXCLUDED.doc_no,
    plant_type = EXCLUDED.plant_type,
    region = EXCLUDED.region,
    name1 = EXCLUDED.name1,
    capacity_per_day = EXCLUDED.capacity_per_day,
    changed_at = EXCLUDED.changed_at,
    attrs = EXCLUDED.attrs,
    change_seq = nextval('erp.change_seq')
