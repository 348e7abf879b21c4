-- The events `ctower export ocel` writes (collectors/ocel/export.py): every stored event of
-- the chosen orders, by order then business time. The orders: created (order_facts) in
-- [:since, :until) when given, and among :orders when given (NULL: not narrowed).
WITH chosen AS (
    SELECT f.order_id
      FROM order_facts f
     WHERE (CAST(:since AS timestamptz) IS NULL OR f.created_at >= CAST(:since AS timestamptz))
       AND (CAST(:until AS timestamptz) IS NULL OR f.created_at < CAST(:until AS timestamptz))
       AND (CAST(:orders AS text[]) IS NULL OR f.order_id = ANY(CAST(:orders AS text[])))
)
SELECT e.source, e.id, e.type, e.time, e.subject, CAST(e.data AS text) AS data
  FROM chosen c
  JOIN events e ON e.order_id = c.order_id
 ORDER BY e.order_id, e.time, e.seq
