-- The business-time span of one source's orders (their created events): what the Process
-- page looks at when an imported OCEL log is chosen. Reads that source's created events
-- (no index by source: run only when a log is chosen, and cached).
SELECT min(time) AS first_created, max(time) AS last_created, count(DISTINCT order_id) AS orders
  FROM events
 WHERE source = :source
   AND type = 'retail.order.created'
