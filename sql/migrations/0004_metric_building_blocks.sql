-- Building blocks the metric and detector queries share (contracts/METRICS.md), each
-- defined once. LANGUAGE sql, STABLE, one SELECT: PostgreSQL expands such a function
-- into the query that calls it, so the planner sees through it (filters, indexes).
-- Only events with time <= p_as_of are ever read.

-- Orders in the window: an order's created_at is the time of its earliest
-- retail.order.created (time, then arrival); it is in the window when created_at is in
-- [p_since, p_until). promised_by and channel come from that same event. Only created
-- events inside the window are read; an earlier created event before p_since takes the
-- order out.
CREATE FUNCTION orders_in_window(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (order_id text, created_at timestamptz, promised_by timestamptz, channel text)
LANGUAGE sql STABLE AS $$
    SELECT w.order_id, w.created_at, w.promised_by, w.channel
      FROM (SELECT DISTINCT ON (c.order_id)
                   c.order_id,
                   c.time                                  AS created_at,
                   (c.data ->> 'promised_by')::timestamptz AS promised_by,
                   c.data ->> 'channel'                    AS channel
              FROM events c
             WHERE c.type = 'retail.order.created'
               AND c.order_id IS NOT NULL
               AND c.time <= p_as_of
               AND c.time >= p_since
               AND c.time < p_until
             ORDER BY c.order_id, c.time, c.seq) AS w
     WHERE NOT EXISTS (SELECT 1
                         FROM events p
                        WHERE p.order_id = w.order_id
                          AND p.type = 'retail.order.created'
                          AND p.time < p_since
                          AND p.time <= p_as_of)
$$;

-- Positions at p_as_of: (system, location_id, sku) with the on_hand of its latest snapshot
-- at or before p_as_of (ties: the later arrival) plus the deltas of the same system's
-- adjustments for it with snapshot time < time <= p_as_of. No snapshot, no position;
-- `reserved` does not enter.
CREATE FUNCTION positions_at(p_as_of timestamptz)
RETURNS TABLE (system text, location_id text, sku text, snapshot_time timestamptz, quantity numeric)
LANGUAGE sql STABLE AS $$
    SELECT s.system, s.location_id, s.sku, s.snapshot_time, s.on_hand + COALESCE(adj.deltas, 0)
      FROM (SELECT DISTINCT ON (e.data ->> 'system', e.location_id, e.sku)
                   e.data ->> 'system'                   AS system,
                   e.location_id,
                   e.sku,
                   e.time                                AS snapshot_time,
                   CAST(e.data ->> 'on_hand' AS numeric) AS on_hand
              FROM events e
             WHERE e.type = 'retail.inventory.snapshot'
               AND e.time <= p_as_of
             ORDER BY e.data ->> 'system', e.location_id, e.sku, e.time DESC, e.seq DESC) AS s
      LEFT JOIN LATERAL (
            SELECT sum(CAST(a.data ->> 'delta' AS numeric)) AS deltas
              FROM events a
             WHERE a.type = 'retail.inventory.adjusted'
               AND a.location_id = s.location_id
               AND a.sku = s.sku
               AND a.data ->> 'system' = s.system
               AND a.time > s.snapshot_time
               AND a.time <= p_as_of) AS adj ON true
$$;

-- Products at p_as_of: each sku's latest retail.product.upserted at or before p_as_of.
CREATE FUNCTION products_at(p_as_of timestamptz)
RETURNS TABLE (sku text, unit_cost numeric, category text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (e.sku) e.sku, CAST(e.data ->> 'unit_cost' AS numeric), e.data ->> 'category'
      FROM events e
     WHERE e.type = 'retail.product.upserted'
       AND e.time <= p_as_of
     ORDER BY e.sku, e.time DESC, e.seq DESC
$$;
