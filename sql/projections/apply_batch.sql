-- Fold one ingest batch's new events into the projections, inside the batch's transaction
-- (apply_projections: sql/migrations/0007_projections.sql; apply_scope_projections, the
-- locations, shipment and return nodes the scope filters need: 0013_scope.sql;
-- apply_process_projection, each order's process steps: 0017_process_projection.sql;
-- apply_history_facts, reroutes, stock counts and product records by key: 0016_history_facts.sql;
-- apply_page_facts, integration calls and events per type for the pages: 0018_call_facts.sql;
-- apply_inventory_pairs, the pairs of the positions apply_projections just updated, so after
-- it: 0019_inventory_pairs.sql).
SELECT apply_projections(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint)),
       apply_inventory_pairs(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint)),
       apply_scope_projections(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint)),
       apply_process_projection(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint)),
       apply_history_facts(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint)),
       apply_page_facts(CAST(:batch_id AS bigint), CAST(:batch_id AS bigint)),
       note_batch_horizon(CAST(:batch_id AS bigint))
