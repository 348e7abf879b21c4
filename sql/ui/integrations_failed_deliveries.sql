-- The failed deliveries of the window (contracts/METRICS.md, "Integration health"): the
-- (interface, correlation id) pairs counted in `failed_deliveries`, from the same SQL
-- function (failed_deliveries(), migration 0004); the latest first, :limit rows.
SELECT interface, correlation_id, last_status, last_call_at
FROM failed_deliveries(CAST(:as_of AS timestamptz), CAST(:since AS timestamptz),
                       CAST(:until AS timestamptz))
ORDER BY last_call_at DESC, interface, correlation_id
LIMIT :limit
