-- The benchmark's baseline (bench/process.py): the same figures as sql/process/map.sql
-- (variants: orders, share, p50/p90 hours; steps: visits, orders, starts, ends; edges:
-- transitions, orders, p50/p90 wait hours) in ONE plain statement on `events` alone: no
-- order_facts, no process_steps, the window's orders found by their created events.
WITH orders AS (
    SELECT e.order_id, min(e.time) AS created_at
      FROM events e
     WHERE e.type = 'retail.order.created'
       AND e.time >= :since AND e.time < :until AND e.time <= :as_of
     GROUP BY e.order_id
),
marked AS (
    SELECT e.order_id, o.created_at, substr(e.type, 14) AS step, e.time, e.seq,
           lag(substr(e.type, 14)) OVER w AS prev_step,
           lag(e.time) OVER w              AS prev_time
      FROM events e
      JOIN orders o ON o.order_id = e.order_id
     WHERE e.type LIKE 'retail.order.%' AND e.time <= :as_of
    WINDOW w AS (PARTITION BY e.order_id ORDER BY e.time, e.seq)
),
kept AS (
    SELECT *, extract(epoch FROM time - prev_time) / 3600.0 AS wait
      FROM marked WHERE prev_step IS DISTINCT FROM step
),
per_order AS (
    SELECT order_id, string_agg(step, ' → ' ORDER BY time, seq) AS variant,
           (array_agg(step ORDER BY time DESC, seq DESC))[1] AS last_step,
           extract(epoch FROM max(time) - min(created_at)) / 3600.0 AS hours
      FROM kept GROUP BY order_id
)
SELECT 'variant' AS kind, variant AS label, count(*) AS n,
       CAST(count(*) AS double precision) / sum(count(*)) OVER () AS share_or_orders,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90
  FROM per_order GROUP BY variant
UNION ALL
SELECT 'step', step, count(*), count(DISTINCT order_id), count(*) FILTER (WHERE prev_step IS NULL),
       (SELECT count(*) FROM per_order p WHERE p.last_step = k.step)
  FROM kept k GROUP BY step
UNION ALL
SELECT 'edge', prev_step || ' → ' || step, count(*), count(DISTINCT order_id),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY wait),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY wait)
  FROM kept WHERE prev_step IS NOT NULL GROUP BY prev_step, step
