-- A staging table for one write of erp.documents (COPY into it, then erp_documents.sql).
DROP TABLE IF EXISTS pg_temp.erp_stage_documents;
CREATE TEMP TABLE erp_stage_documents ON COMMIT DROP AS
SELECT doc_no, posted_at, doc_type, attrs FROM erp.documents WITH NO DATA;
