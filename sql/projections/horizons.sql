-- The latest business time each "latest picture" projection has folded in (indexed max):
-- such a projection is the picture at an instant only when its horizon is at or before it.
SELECT (SELECT max(last_event_at) FROM position_facts) AS positions,
       (SELECT max(time) FROM product_facts)           AS products,
       (SELECT max(last_call_at) FROM delivery_facts)  AS deliveries,
       -- the reference system inventory_pairs is built for (sql/migrations/0019_inventory_pairs.sql)
       (SELECT reference_system FROM inventory_pairs_reference) AS pairs_reference
