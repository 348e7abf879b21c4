-- Fold one ingest batch's new events into the projections, inside the batch's transaction
-- (apply_projections: sql/migrations/0007_projections.sql).
SELECT apply_projections(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint))
