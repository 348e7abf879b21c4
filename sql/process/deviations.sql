-- The first :limit orders of the window whose step sequence does not conform
-- (process_conforms, migration 0017: :expected, :allowed_end as in map.sql), oldest first
-- (created_at, then order_id). No count here: the number of deviating orders is the
-- conformance of sql/process/map.sql. The window's orders are read in created_at order
-- (index order_process_created) until :limit deviating ones are found.
-- Parameters: :as_of, :since, :until, :region, :channel, :node, :source, :expected,
-- :allowed_end, :limit.
SELECT d.order_id, d.created_at, f.channel, f.node, process_variant(d.steps) AS variant, d.hours
  FROM (SELECT o.order_id, o.created_at, o.steps, o.hours
          FROM process_orders(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz),
                              CAST(:region AS text), CAST(:channel AS text), CAST(:node AS text),
                              CAST(:source AS text)) o
         WHERE NOT process_conforms(o.steps, CAST(:expected AS smallint[]), CAST(:allowed_end AS smallint))
         ORDER BY o.created_at, o.order_id
         LIMIT :limit) AS d
  LEFT JOIN order_facts f ON f.order_id = d.order_id
 ORDER BY d.created_at, d.order_id
