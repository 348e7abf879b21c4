-- The failed deliveries of the window (contracts/METRICS.md, "Integration health"): the
-- (interface, correlation id) pairs counted in `failed_deliveries`, the latest first, :limit
-- rows. As integrations_summary_projected.sql: from delivery_facts (migration 0007) when no
-- projected call is later than :as_of (each pair's latest call is then its latest at
-- :as_of; read newest first through delivery_facts_failed), else from call_facts
-- (failed_deliveries_from_calls(), migration 0018: the rows of failed_deliveries(), 0004).
WITH current AS MATERIALIZED (
    SELECT COALESCE((SELECT max(last_call_at) FROM delivery_facts) <= :as_of, true) AS yes
)
(SELECT d.interface, d.correlation_id, d.last_status, d.last_call_at
   FROM delivery_facts d
  WHERE (SELECT yes FROM current)
    AND d.last_status <> 'ok'
    AND d.last_call_at >= :since AND d.last_call_at <= :as_of
    AND (d.last_call_at < :until
         OR EXISTS (SELECT 1 FROM unnest(d.call_times) AS t WHERE t >= :since AND t < :until))
  ORDER BY d.last_call_at DESC, d.interface, d.correlation_id
  LIMIT :limit)
UNION ALL
(SELECT f.interface, f.correlation_id, f.last_status, f.last_call_at
   FROM failed_deliveries_from_calls(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                                     CAST(:until AS timestamptz), NULL) AS f
  WHERE NOT (SELECT yes FROM current)
  ORDER BY f.last_call_at DESC, f.interface, f.correlation_id
  LIMIT :limit)
ORDER BY last_call_at DESC, interface, correlation_id
LIMIT :limit
