-- A staging table for one write of erp.materials (COPY into it, then erp_materials.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_materials;
CREATE TEMP TABLE erp_stage_materials ON COMMIT DROP AS
SELECT doc_no, material, std_cost, description, mat_group, list_price, changed_at, attrs FROM erp.materials WITH NO DATA;
