-- The orders of the window whose step sequence does not conform (process_conforms,
-- migration 0017: :expected, :allowed_end as in map.sql), oldest first, at most :limit,
-- with the exact count (total). Conformance is decided once per variant (the window's
-- distinct sequences), then the orders of the deviating ones are listed.
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source, :expected,
-- :allowed_end, :limit.
SELECT d.order_id, d.created_at, f.channel, f.node, process_variant(d.steps) AS variant, d.hours, d.total
  FROM (SELECT o.order_id, o.created_at, o.steps, o.hours, count(*) OVER () AS total
          FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz),
                              CAST(:region AS text), CAST(:channel AS text), CAST(:node AS text),
                              CAST(:source AS text)) o
         WHERE o.steps IN (SELECT v.steps
                             FROM (SELECT DISTINCT s.steps
                                     FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                                         CAST(:until AS timestamptz), CAST(:region AS text),
                                                         CAST(:channel AS text), CAST(:node AS text),
                                                         CAST(:source AS text)) s) AS v
                            WHERE NOT process_conforms(v.steps, CAST(:expected AS smallint[]),
                                                       CAST(:allowed_end AS smallint)))
         ORDER BY o.created_at, o.order_id
         LIMIT :limit) AS d
  LEFT JOIN order_facts f ON f.order_id = d.order_id
 ORDER BY d.created_at, d.order_id
