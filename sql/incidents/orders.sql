-- The orders of an incident at :as_of (metrics/incidents.py, impact): the attached orders,
-- the correlation ids of the attached deliveries, and the correlation ids of the calls of
-- the attached interfaces that failed (status error or timeout) with time in
-- [:range_from, :range_to) and <= :as_of; of those, the ids that are orders created at or
-- before :as_of (order_facts). `via` says how each one came in.
-- SLA as contracts/METRICS.md: delivered and shipped count when <= :as_of; cancelled when
-- cancelled at or before :as_of; breached = delivered after promised_by, or not delivered
-- and :as_of past promised_by. Lines are those of the order's created event that counts
-- (order_facts.created_seq): units = sum of qty, value = sum of qty x unit_price, lines
-- without a unit_price are counted in `unpriced_lines` and add no value.
-- Parameters: :orders, :delivery_interfaces, :delivery_ids (text[]), :interfaces (text[]),
-- :range_from, :range_to, :as_of.
WITH targets AS (
    SELECT o AS order_id, 'attached' AS via
      FROM unnest(CAST(:orders AS text[])) AS o
    UNION ALL
    SELECT d.correlation_id, 'delivery ' || d.interface
      FROM unnest(CAST(:delivery_interfaces AS text[]), CAST(:delivery_ids AS text[])) AS d(interface, correlation_id)
    UNION ALL
    SELECT DISTINCT e.data ->> 'correlation_id', 'failed call on ' || e.interface
      FROM events e
     WHERE e.interface = ANY(CAST(:interfaces AS text[]))
       AND e.type = 'retail.integration.call'
       AND e.time >= CAST(:range_from AS timestamptz)
       AND e.time < CAST(:range_to AS timestamptz)
       AND e.time <= CAST(:as_of AS timestamptz)
       AND e.data ->> 'status' IN ('error', 'timeout')
       AND COALESCE(e.data ->> 'correlation_id', '') <> ''
),
wanted AS (
    SELECT order_id, string_agg(DISTINCT via, '; ' ORDER BY via) AS via
      FROM targets
     GROUP BY order_id
),
facts AS (
    SELECT w.order_id, w.via, f.created_at, f.created_seq, f.promised_by, f.channel, f.node,
           CASE WHEN f.delivered_at <= CAST(:as_of AS timestamptz) THEN f.delivered_at END AS delivered_at,
           COALESCE(f.cancelled_at <= CAST(:as_of AS timestamptz), false) AS cancelled
      FROM wanted w
      JOIN order_facts f ON f.order_id = w.order_id
     WHERE f.created_at <= CAST(:as_of AS timestamptz)
)
SELECT f.order_id, f.via, f.channel, f.created_at, f.promised_by, f.delivered_at, f.cancelled,
       CASE WHEN f.delivered_at IS NOT NULL THEN f.delivered_at > f.promised_by
            ELSE CAST(:as_of AS timestamptz) > f.promised_by
       END AS breached,
       COALESCE(l.units, 0) AS units,
       COALESCE(l.value, 0) AS value,
       COALESCE(l.unpriced_lines, 0) AS unpriced_lines
  FROM facts f
  LEFT JOIN LATERAL (
      SELECT CAST(sum(CAST(line ->> 'qty' AS bigint)) AS bigint) AS units,
             sum(CAST(line ->> 'qty' AS numeric) * CAST(line ->> 'unit_price' AS numeric)) AS value,
             count(*) FILTER (WHERE line ->> 'unit_price' IS NULL) AS unpriced_lines
        FROM events e
       CROSS JOIN LATERAL jsonb_array_elements(e.data -> 'lines') AS line
       WHERE e.order_id = f.order_id AND e.time = f.created_at AND e.seq = f.created_seq
  ) AS l ON true
 ORDER BY f.order_id
