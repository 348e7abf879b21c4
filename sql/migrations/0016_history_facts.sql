-- History facts (issue 5, page speed): narrow, typed copies of the few event kinds that the
-- pages replay or break down, kept current at ingest, so those read small tables by primary
-- key instead of the events' jsonb:
--
-- reroute_facts         one row per retail.order.rerouted (reason, from/to node): the
--                       Fulfilment page's "rerouted orders by reason / by node rerouted
--                       from" (metrics.reroutes.breakdowns, reroutes_breakdowns_projected.sql).
-- position_snapshots    one row per retail.inventory.snapshot (on_hand) and per
-- position_adjustments  retail.inventory.adjusted (delta) of a position (location, sku,
--                       system): an inventory picture at an earlier as_of recomputes the
--                       positions changed since from these (inventory_summary_replayed.sql,
--                       inventory_figures_replayed.sql), e.g. the Overview's previous-window
--                       trend.
-- product_history       one row per retail.product.upserted (unit_cost, category): each
--                       sku's product record at an earlier as_of.
--
-- Every event is one row, keyed by its own (key, time, seq): inserts only, order-independent,
-- so the tables equal a recomputation from the stored events whatever order they arrived in.
-- The events paths (use_projections=False) give the same figures: tests/test_breakdown_paths.py,
-- tests/test_metrics_reference.py. Upkeep: apply_history_facts(first, last), called per ingest
-- batch by sql/projections/apply_batch.sql in the batch's transaction (after
-- apply_projections, under its advisory lock); it reads the batch's events by batch_id
-- (index events_batch).

CREATE TABLE reroute_facts (
    order_id  text COLLATE "C" NOT NULL,
    time      timestamptz NOT NULL,
    seq       bigint      NOT NULL,
    reason    text,
    from_node text,
    to_node   text,
    PRIMARY KEY (order_id, time, seq)
);

CREATE TABLE position_snapshots (
    location_id text COLLATE "C" NOT NULL,
    sku         text COLLATE "C" NOT NULL,
    system      text COLLATE "C" NOT NULL,
    time        timestamptz NOT NULL,
    seq         bigint      NOT NULL,
    on_hand     bigint      NOT NULL,
    PRIMARY KEY (location_id, sku, system, time, seq)
);

CREATE TABLE position_adjustments (
    location_id text COLLATE "C" NOT NULL,
    sku         text COLLATE "C" NOT NULL,
    system      text COLLATE "C" NOT NULL,
    time        timestamptz NOT NULL,
    seq         bigint      NOT NULL,
    delta       bigint      NOT NULL,
    PRIMARY KEY (location_id, sku, system, time, seq)
);

CREATE TABLE product_history (
    sku       text COLLATE "C" NOT NULL,
    time      timestamptz NOT NULL,
    seq       bigint      NOT NULL,
    unit_cost numeric,
    category  text,
    PRIMARY KEY (sku, time, seq)
);

CREATE FUNCTION apply_history_facts(p_first bigint, p_last bigint) RETURNS void
LANGUAGE sql AS $fn$
WITH b AS MATERIALIZED (
    SELECT type, time, seq, order_id, location_id, sku, data
      FROM events
     WHERE batch_id BETWEEN p_first AND p_last
       AND type IN ('retail.order.rerouted', 'retail.inventory.snapshot', 'retail.inventory.adjusted',
                    'retail.product.upserted')
),
reroutes AS (
    INSERT INTO reroute_facts (order_id, time, seq, reason, from_node, to_node)
    SELECT order_id, time, seq, data ->> 'reason', data ->> 'from_node', data ->> 'to_node'
      FROM b
     WHERE type = 'retail.order.rerouted' AND order_id IS NOT NULL
     ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING
),
snapshots AS (  -- the rows position_facts folds (migration 0007), one by one
    INSERT INTO position_snapshots (location_id, sku, system, time, seq, on_hand)
    SELECT location_id, sku, data ->> 'system', time, seq, CAST(data ->> 'on_hand' AS bigint)
      FROM b
     WHERE type = 'retail.inventory.snapshot' AND location_id IS NOT NULL AND sku IS NOT NULL
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT DO NOTHING
),
adjustments AS (
    INSERT INTO position_adjustments (location_id, sku, system, time, seq, delta)
    SELECT location_id, sku, data ->> 'system', time, seq, CAST(data ->> 'delta' AS bigint)
      FROM b
     WHERE type = 'retail.inventory.adjusted' AND location_id IS NOT NULL AND sku IS NOT NULL
     ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT DO NOTHING
)
INSERT INTO product_history (sku, time, seq, unit_cost, category)
SELECT sku, time, seq, CAST(data ->> 'unit_cost' AS numeric), data ->> 'category'
  FROM b
 WHERE type = 'retail.product.upserted' AND sku IS NOT NULL
 ORDER BY 1, 2, 3
ON CONFLICT DO NOTHING
$fn$;

CREATE FUNCTION truncate_history_facts() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE reroute_facts, position_snapshots, position_adjustments, product_history;
    RETURN NULL;
END;
$fn$;
CREATE TRIGGER events_truncate_history_facts AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION truncate_history_facts();

-- Events stored before this migration.
SELECT apply_history_facts(0, 9223372036854775807);
