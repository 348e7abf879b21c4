-- Process intelligence on the order process (metrics/process.py, sql/process/*.sql).
--
-- process_steps(as_of, since, until, region, channel, node, source): the step sequence of
-- every order in the window, one row per step, computed from `events` through the index
-- events_order (order_id, time), for the orders order_facts (0007) puts in the window.
--
-- - Orders: created_at (earliest retail.order.created) in [since, until) and <= as_of,
--   narrowed by the scope (NULL: not narrowed): channel = order_facts.channel, node =
--   its current node (order_facts.node), region = that node's region (its latest
--   retail.location.upserted at or before as_of), source = the source of its created event.
-- - Steps: its retail.order.{created, routed, rerouted, picked, packed, shipped, delivered,
--   cancelled, exception} events with time <= as_of, by (time, seq), the step being the
--   type without "retail.order."; consecutive repeats of one step are one step (an order
--   picked item by item is "picked" once; the step's time is its first event's).
-- - at, seq: when the step happened (its first event's time and arrival number: the order
--   of the steps); prev_step / prev_time: the step before and the time of the event just
--   before this step (the last of a repeated run), so `at - prev_time` is the wait on the
--   edge prev_step -> step; NULL on an order's first step.
-- - node_id: where the step happened (its location_id: node_id / to_node), else the
--   order's current node.
CREATE FUNCTION process_steps(p_as_of timestamptz, p_since timestamptz, p_until timestamptz,
                              p_region text, p_channel text, p_node text, p_source text)
RETURNS TABLE (order_id text, created_at timestamptz, channel text, node text, step text,
               at timestamptz, seq bigint, prev_step text, prev_time timestamptz, node_id text)
LANGUAGE sql STABLE AS $$
    WITH orders AS (
        SELECT f.order_id, f.created_at, f.created_seq, f.channel, f.node
          FROM order_facts f
         WHERE f.created_at >= p_since
           AND f.created_at < p_until
           AND f.created_at <= p_as_of
           AND (p_channel IS NULL OR f.channel = p_channel)
           AND (p_node IS NULL OR f.node = p_node)
           AND (p_region IS NULL OR (SELECT l.data ->> 'region'
                                       FROM events l
                                      WHERE l.type = 'retail.location.upserted'
                                        AND l.location_id = f.node
                                        AND l.time <= p_as_of
                                      ORDER BY l.time DESC, l.seq DESC
                                      LIMIT 1) = p_region)
           AND (p_source IS NULL OR EXISTS (SELECT 1
                                              FROM events c
                                             WHERE c.order_id = f.order_id
                                               AND c.time = f.created_at
                                               AND c.seq = f.created_seq
                                               AND c.source = p_source))
    ),
    marked AS (
        SELECT o.order_id, o.created_at, o.channel, o.node,
               substr(e.type, 14) AS step, e.time, e.seq, e.location_id,
               lag(substr(e.type, 14)) OVER w AS prev_step,
               lag(e.time) OVER w              AS prev_time
          FROM orders o
          JOIN events e
            ON e.order_id = o.order_id
           AND e.time <= p_as_of
           AND e.type IN ('retail.order.created', 'retail.order.routed', 'retail.order.rerouted',
                          'retail.order.picked', 'retail.order.packed', 'retail.order.shipped',
                          'retail.order.delivered', 'retail.order.cancelled', 'retail.order.exception')
        WINDOW w AS (PARTITION BY o.order_id ORDER BY e.time, e.seq)
    )
    SELECT m.order_id, m.created_at, m.channel, m.node, m.step,
           m.time, m.seq, m.prev_step, m.prev_time, COALESCE(m.location_id, m.node)
      FROM marked m
     WHERE m.prev_step IS DISTINCT FROM m.step
$$;
