-- The bottleneck view (metrics/process.py): the waits on each edge of the directly-follows
-- graph broken down by :by ('node': where the step happened, else the order's current
-- node; 'channel': the order's channel), longest p90 first, at most :limit rows; one pass
-- over the window's orders (process_orders, migration 0017) with their order_facts row.
-- The order_facts rows are found by the window's created_at (index order_facts_created;
-- the same created_at as order_process: the earliest created event): a hash of 222k rows
-- instead of every order's facts. An order whose facts row is not among them (none, as
-- the two agree) reads it by its key, so the result never depends on that agreement; an
-- order without any facts row is left out, as an inner join would.
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source, :by, :limit.
SELECT w.value, process_step_name(w.code / 10) AS from_step, process_step_name(w.code % 10) AS to_step,
       w.transitions, w.p[1] AS p50_wait_hours, w.p[2] AS p90_wait_hours
  FROM (SELECT u.value, u.code, count(*) AS transitions,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY u.wait) AS p
          FROM (SELECT CASE WHEN CAST(:by AS text) = 'channel' THEN t.channel
                            ELSE COALESCE(t.node, t.current) END AS value,
                       t.code, t.wait
                  FROM (SELECT o.order_id,  -- joined per order, then unnested
                               CASE WHEN f.order_id IS NOT NULL THEN f.channel
                                    ELSE (SELECT a.channel FROM order_facts a WHERE a.order_id = o.order_id) END
                                   AS channel,
                               CASE WHEN f.order_id IS NOT NULL THEN f.node
                                    ELSE (SELECT a.node FROM order_facts a WHERE a.order_id = o.order_id) END
                                   AS current,
                               unnest(o.edges) AS code, unnest(o.waits) AS wait, unnest(o.nodes) AS node
                          FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                              CAST(:until AS timestamptz), CAST(:region AS text),
                                              CAST(:channel AS text), CAST(:node AS text),
                                              CAST(:source AS text)) o
                          LEFT JOIN (SELECT order_id, channel, node
                                       FROM order_facts
                                      WHERE created_at >= CAST(:since AS timestamptz)
                                        AND created_at < CAST(:until AS timestamptz)
                                        AND created_at <= CAST(:as_of AS timestamptz)) AS f
                                 ON f.order_id = o.order_id
                         WHERE f.order_id IS NOT NULL
                            OR EXISTS (SELECT 1 FROM order_facts a WHERE a.order_id = o.order_id)) AS t
                 WHERE t.code IS NOT NULL) AS u
         GROUP BY u.value, u.code) AS w
 ORDER BY p90_wait_hours DESC, transitions DESC, value, from_step, to_step
 LIMIT :limit
