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
-- `reserved` does not enter. (A join, not a lateral lookup per position: 15% faster at 1M.)
CREATE FUNCTION positions_at(p_as_of timestamptz)
RETURNS TABLE (system text, location_id text, sku text, snapshot_time timestamptz, quantity numeric)
LANGUAGE sql STABLE AS $$
    SELECT s.system, s.location_id, s.sku, s.snapshot_time,
           s.on_hand + COALESCE(sum(CAST(a.data ->> 'delta' AS numeric)), 0)
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
      LEFT JOIN events a
             ON a.type = 'retail.inventory.adjusted'
            AND a.location_id = s.location_id
            AND a.sku = s.sku
            AND a.data ->> 'system' = s.system
            AND a.time > s.snapshot_time
            AND a.time <= p_as_of
     GROUP BY s.system, s.location_id, s.sku, s.snapshot_time, s.on_hand
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

-- The SLA facts of each order in the window, at p_as_of: delivered_at (its earliest
-- delivery), whether it was shipped or cancelled, and whether it is breached: delivered
-- after promised_by, or not delivered and p_as_of past promised_by. Cancelled orders are
-- listed too (callers leave them out of `orders`).
CREATE FUNCTION order_sla_facts(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (order_id text, created_at timestamptz, promised_by timestamptz, channel text,
               delivered_at timestamptz, shipped boolean, cancelled boolean, breached boolean)
LANGUAGE sql STABLE AS $$
    SELECT f.order_id, f.created_at, f.promised_by, f.channel, f.delivered_at, f.shipped, f.cancelled,
           CASE WHEN f.delivered_at IS NOT NULL THEN f.delivered_at > f.promised_by
                ELSE p_as_of > f.promised_by
           END
      FROM (SELECT w.order_id, w.created_at, w.promised_by, w.channel,
                   min(e.time) FILTER (WHERE e.type = 'retail.order.delivered')      AS delivered_at,
                   count(e.seq) FILTER (WHERE e.type = 'retail.order.shipped') > 0   AS shipped,
                   count(e.seq) FILTER (WHERE e.type = 'retail.order.cancelled') > 0 AS cancelled
              FROM orders_in_window(p_as_of, p_since, p_until) w
              LEFT JOIN events e
                     ON e.order_id = w.order_id
                    AND e.time <= p_as_of
                    AND e.type IN ('retail.order.delivered', 'retail.order.shipped',
                                   'retail.order.cancelled')
             GROUP BY w.order_id, w.created_at, w.promised_by, w.channel) AS f
$$;

-- Inventory pairs at p_as_of: (location, sku, other system) where p_reference_system and
-- the other system both hold a position; diff = other - reference; out of tolerance when
-- |diff| > max(p_abs_tolerance, p_pct_tolerance * |reference|), in exact decimals; with
-- the sku's unit_cost (0 when unknown) and category.
CREATE FUNCTION inventory_pairs_at(p_as_of timestamptz, p_reference_system text,
                                   p_abs_tolerance numeric, p_pct_tolerance numeric)
RETURNS TABLE (location_id text, sku text, system text, reference_quantity numeric, diff numeric,
               out_of_tolerance boolean, unit_cost numeric, category text)
LANGUAGE sql STABLE AS $$
    WITH positions AS (SELECT * FROM positions_at(p_as_of))
    SELECT o.location_id, o.sku, o.system, r.quantity, o.quantity - r.quantity,
           abs(o.quantity - r.quantity) > GREATEST(p_abs_tolerance, p_pct_tolerance * abs(r.quantity)),
           COALESCE(pr.unit_cost, 0), pr.category
      FROM positions r
      JOIN positions o ON o.location_id = r.location_id AND o.sku = r.sku AND o.system <> r.system
      LEFT JOIN products_at(p_as_of) pr ON pr.sku = o.sku
     WHERE r.system = p_reference_system
$$;

-- Returns in the window at p_as_of: a return's receipt is its first retail.return.received
-- (time, then arrival) with time <= p_as_of, in the window when that time is in
-- [p_since, p_until); its restock is its first retail.return.restocked with time <= p_as_of.
CREATE FUNCTION returns_in_window(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (return_id text, received_at timestamptz, restocked_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT r.return_id, r.received_at, s.restocked_at
      FROM (SELECT DISTINCT ON (data ->> 'return_id') data ->> 'return_id' AS return_id,
                   time AS received_at
              FROM events
             WHERE type = 'retail.return.received' AND time <= p_as_of
             ORDER BY data ->> 'return_id', time, seq) AS r
      LEFT JOIN (SELECT DISTINCT ON (data ->> 'return_id') data ->> 'return_id' AS return_id,
                        time AS restocked_at
                   FROM events
                  WHERE type = 'retail.return.restocked' AND time <= p_as_of
                  ORDER BY data ->> 'return_id', time, seq) AS s USING (return_id)
     WHERE r.received_at >= p_since AND r.received_at < p_until
$$;

-- Shipments received in the window at p_as_of: a shipment's receipt is its first
-- retail.shipment.received (time, then arrival) with time <= p_as_of, in the window when
-- that time is in [p_since, p_until); its ASN is the latest retail.shipment.asn of the same
-- shipment_id strictly before the receipt (a revised ASN replaces the earlier one):
-- had_asn, and that ASN's expected_at.
CREATE FUNCTION receipts_in_window(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (shipment_id text, received_at timestamptz, had_asn boolean, expected_at timestamptz)
LANGUAGE sql STABLE AS $$
    WITH receipts AS (
        SELECT * FROM (SELECT DISTINCT ON (data ->> 'shipment_id') data ->> 'shipment_id' AS shipment_id, time
                         FROM events
                        WHERE type = 'retail.shipment.received' AND time <= p_as_of
                        ORDER BY data ->> 'shipment_id', time, seq) AS first_receipts
         WHERE time >= p_since AND time < p_until
    ),
    asn AS (  -- a hash join: data ->> 'shipment_id' has no index
        SELECT DISTINCT ON (r.shipment_id) r.shipment_id, (a.data ->> 'expected_at')::timestamptz AS expected_at
          FROM receipts r
          JOIN events a
            ON a.type = 'retail.shipment.asn'
           AND a.data ->> 'shipment_id' = r.shipment_id
           AND a.time < r.time
         ORDER BY r.shipment_id, a.time DESC, a.seq DESC
    )
    SELECT r.shipment_id, r.time, a.shipment_id IS NOT NULL, a.expected_at
      FROM receipts r
      LEFT JOIN asn a USING (shipment_id)
$$;

-- Reroutes of each order in the window: the retail.order.rerouted events with time <=
-- p_as_of, whenever in the order's life they happened, and whether it is cancelled.
CREATE FUNCTION order_reroute_counts(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (order_id text, reroutes bigint, cancelled boolean)
LANGUAGE sql STABLE AS $$
    SELECT w.order_id,
           count(e.seq) FILTER (WHERE e.type = 'retail.order.rerouted'),
           count(e.seq) FILTER (WHERE e.type = 'retail.order.cancelled') > 0
      FROM orders_in_window(p_as_of, p_since, p_until) w
      LEFT JOIN events e
             ON e.order_id = w.order_id
            AND e.time <= p_as_of
            AND e.type IN ('retail.order.rerouted', 'retail.order.cancelled')
     GROUP BY w.order_id
$$;

-- Failed deliveries of the window: (interface, correlation_id) pairs with at least one call
-- in [p_since, p_until) (and <= p_as_of) whose latest call at or before p_as_of (ties: the
-- later arrival) is not 'ok'. Calls without a correlation id (absent, null or "") form
-- none. A pair with a call in the window has its latest call at or after p_since, so
-- earlier calls are not read.
CREATE FUNCTION failed_deliveries(p_as_of timestamptz, p_since timestamptz, p_until timestamptz)
RETURNS TABLE (interface text, correlation_id text, last_status text, last_call_at timestamptz)
LANGUAGE sql STABLE AS $$
    WITH calls AS (  -- read once: calls with a correlation id from p_since up to p_as_of
        SELECT interface, NULLIF(data ->> 'correlation_id', '') AS correlation_id,
               data ->> 'status' AS status, time, seq
          FROM events
         WHERE type = 'retail.integration.call'
           AND interface IS NOT NULL  -- every call has one: lets the partial index on (interface, time) serve
           AND time <= p_as_of
           AND time >= p_since
           AND NULLIF(data ->> 'correlation_id', '') IS NOT NULL
    )
    SELECT l.interface, l.correlation_id, l.status, l.time
      FROM (SELECT DISTINCT ON (interface, correlation_id) interface, correlation_id, status, time
              FROM calls
             ORDER BY interface, correlation_id, time DESC, seq DESC) AS l
     WHERE l.status <> 'ok'
       AND (l.interface, l.correlation_id) IN (SELECT interface, correlation_id FROM calls
                                                WHERE time < p_until)
$$;
