-- A staging table for one write of erp.plants (COPY into it, then erp_plants.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_plants;
CREATE TEMP TABLE erp_stage_plants ON COMMIT DROP AS
SELECT doc_no, plant, plant_type, region, name1, capacity_per_day, changed_at, attrs FROM erp.plants WITH NO DATA;
