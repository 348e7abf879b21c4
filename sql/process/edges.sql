-- The edges of the directly-follows graph of the window's orders (process_orders,
-- migration 0017): per edge (code: from * 10 + to), its transitions and the p50/p90 of the
-- waits into them (hours from the event just before the step), exact (percentile_cont);
-- one pass unnesting each order's transitions. The orders on each edge come from the
-- variants (sql/process/map.sql, edge_orders). Most frequent first.
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source.
SELECT w.code, process_step_name(w.code / 10) AS from_step, process_step_name(w.code % 10) AS to_step,
       w.transitions, w.waits[1] AS p50_wait_hours, w.waits[2] AS p90_wait_hours
  FROM (SELECT u.code, count(*) AS transitions,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY u.wait) AS waits
          FROM (SELECT unnest(o.edges) AS code, unnest(o.waits) AS wait  -- in the select list: no tuplestore
                  FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                      CAST(:until AS timestamptz), CAST(:region AS text),
                                      CAST(:channel AS text), CAST(:node AS text), CAST(:source AS text)) o
               ) AS u
         WHERE u.code IS NOT NULL
         GROUP BY u.code) AS w
 ORDER BY w.transitions DESC, from_step, to_step
