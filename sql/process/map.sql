-- The process map of the window's orders from the process projection (process_orders,
-- sql/migrations/0017_process_projection.sql: one row per order with its steps): the
-- conformance, the variants, and the directly-follows graph's nodes and the number of
-- orders on each edge, each as a JSON array of rows (metrics/process.py reads them into
-- frames). ONE pass over the window's orders: a GROUP BY of their step sequences; all
-- the rest follows from the variants. The edges' transitions and waits, which unnest each
-- order's transitions, are sql/process/edges.sql (read only when the graph is shown).
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source, :limit (variants),
-- :expected (the codes of the expected sequence), :allowed_end (the code of its allowed end).
-- conformance: orders, complete (conform, end delivered), cancelled (conform, end cancelled),
--   in_progress (conform, neither), deviating (do not conform).
-- variants: variant, steps, orders, share (of the window's orders), p50/p90 hours from
--   created to the last step, most frequent first; variants = how many distinct ones.
-- nodes: step, visits, orders, starts, ends (orders whose first / last step it is).
-- edge_orders: code (from * 10 + to), orders (that made the edge at least once).
WITH per_variant AS MATERIALIZED (
    SELECT o.steps, count(*) AS orders,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY o.hours) AS hours
      FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz),
                          CAST(:region AS text), CAST(:channel AS text), CAST(:node AS text),
                          CAST(:source AS text)) o
     GROUP BY o.steps
),
variants AS (
    SELECT process_variant(steps) AS variant, cardinality(steps) AS steps, orders,
           CAST(orders AS double precision) / sum(orders) OVER () AS share,
           hours[1] AS p50_hours, hours[2] AS p90_hours,
           count(*) OVER () AS variants
      FROM per_variant
     ORDER BY orders DESC, variant
     LIMIT :limit
),
visits AS (  -- every step of every variant
    SELECT v.orders, u.code, u.i, cardinality(v.steps) AS n
      FROM per_variant v
     CROSS JOIN LATERAL unnest(v.steps) WITH ORDINALITY AS u(code, i)
),
nodes AS (
    SELECT process_step_name(code) AS step,
           CAST(sum(orders) AS bigint)                                       AS visits,
           CAST((SELECT sum(v.orders) FROM per_variant v WHERE x.code = ANY(v.steps)) AS bigint) AS orders,
           CAST(COALESCE(sum(orders) FILTER (WHERE i = 1), 0) AS bigint)     AS starts,
           CAST(COALESCE(sum(orders) FILTER (WHERE i = n), 0) AS bigint)     AS ends
      FROM visits x
     GROUP BY code
     ORDER BY visits DESC, step
),
edge_orders AS (  -- per edge (its code: from * 10 + to), the orders that made it, from the variants
    SELECT e.code, CAST(sum(v.orders) AS bigint) AS orders
      FROM per_variant v
     CROSS JOIN LATERAL (SELECT DISTINCT v.steps[i - 1] * 10 + v.steps[i] AS code
                           FROM generate_subscripts(v.steps, 1) AS i WHERE i > 1) AS e
     GROUP BY e.code
     ORDER BY e.code
)
SELECT (SELECT json_build_object(
            'orders', COALESCE(sum(orders), 0),
            'complete', COALESCE(sum(orders) FILTER (WHERE ok AND steps[cardinality(steps)] = 7), 0),
            'cancelled', COALESCE(sum(orders) FILTER (WHERE ok AND steps[cardinality(steps)] = 8), 0),
            'in_progress', COALESCE(sum(orders) FILTER (WHERE ok AND steps[cardinality(steps)] NOT IN (7, 8)), 0),
            'deviating', COALESCE(sum(orders) FILTER (WHERE NOT ok), 0))
          FROM (SELECT steps, orders,
                       process_conforms(steps, CAST(:expected AS smallint[]), CAST(:allowed_end AS smallint)) AS ok
                  FROM per_variant) AS c) AS conformance,
       (SELECT COALESCE(json_agg(v), '[]') FROM variants v) AS variants,
       (SELECT COALESCE(json_agg(n), '[]') FROM nodes n)    AS nodes,
       (SELECT COALESCE(json_agg(e), '[]') FROM edge_orders e) AS edge_orders
