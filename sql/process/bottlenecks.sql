-- The bottleneck view (metrics/process.py): the waits on each edge of the directly-follows
-- graph broken down by :by ('node': where the step happened, else the order's current
-- node; 'channel': the order's channel), longest p90 first, at most :limit rows; one pass
-- over the window's orders (process_orders, migration 0017) joined to order_facts.
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source, :by, :limit.
SELECT w.value, process_step_name(w.code / 10) AS from_step, process_step_name(w.code % 10) AS to_step,
       w.transitions, w.p[1] AS p50_wait_hours, w.p[2] AS p90_wait_hours
  FROM (SELECT u.value, u.code, count(*) AS transitions,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY u.wait) AS p
          FROM (SELECT CASE WHEN CAST(:by AS text) = 'channel' THEN t.channel
                            ELSE COALESCE(t.node, t.current) END AS value,
                       t.code, t.wait
                  FROM (SELECT o.order_id, f.channel, f.node AS current,  -- joined per order, then unnested
                               unnest(o.edges) AS code, unnest(o.waits) AS wait, unnest(o.nodes) AS node
                          FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                              CAST(:until AS timestamptz), CAST(:region AS text),
                                              CAST(:channel AS text), CAST(:node AS text),
                                              CAST(:source AS text)) o
                          JOIN order_facts f ON f.order_id = o.order_id) AS t
                 WHERE t.code IS NOT NULL) AS u
         GROUP BY u.value, u.code) AS w
 ORDER BY p90_wait_hours DESC, transitions DESC, value, from_step, to_step
 LIMIT :limit
