-- The orders of one variant (:steps, its step codes: metrics/process.py), longest first, at
-- most :limit, with the exact count (total); from the process projection (migration 0017).
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source, :steps, :limit.
SELECT v.order_id, v.created_at, f.channel, f.node, v.hours, v.total
  FROM (SELECT o.order_id, o.created_at, o.hours, count(*) OVER () AS total
          FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz),
                              CAST(:region AS text), CAST(:channel AS text), CAST(:node AS text),
                              CAST(:source AS text)) o
         WHERE o.steps = CAST(:steps AS smallint[])
         ORDER BY o.hours DESC, o.order_id
         LIMIT :limit) AS v
  LEFT JOIN order_facts f ON f.order_id = v.order_id
 ORDER BY v.hours DESC, v.order_id
