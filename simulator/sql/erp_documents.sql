-- erp.documents: appended documents.
INSERT INTO erp.documents (doc_no, posted_at, doc_type, attrs)
SELECT doc_no, posted_at, doc_type, attrs FROM erp_stage_documents
ON CONFLICT (doc_no) DO NOTHING
