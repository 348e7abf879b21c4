-- Inventory variance by location, by system or by sku category (contracts/METRICS.md,
-- "Inventory variance", Breakdowns). A picture at :as_of; the window does not apply.
--
-- :dimension is 'location' (the pair's location_id), 'system' (the pair's other system,
-- never the reference) or 'category' (data.category of the sku's latest
-- retail.product.upserted at or before :as_of; NULL when unknown). One row per key that
-- has at least one pair, with that key's pair figures.
--
-- The CTE chain is the one of inventory_summary.sql (see there; keep them in step: a test
-- checks that each breakdown adds up to the summary).
WITH snapshots AS (
    SELECT DISTINCT ON (e.data ->> 'system', e.location_id, e.sku)
           e.data ->> 'system' AS system,
           e.location_id,
           e.sku,
           e.time AS snapshot_time,
           CAST(e.data ->> 'on_hand' AS numeric) AS on_hand
    FROM events AS e
    WHERE e.type = 'retail.inventory.snapshot'
      AND e.time <= CAST(:as_of AS timestamptz)
    ORDER BY e.data ->> 'system', e.location_id, e.sku, e.time DESC, e.seq DESC
),
positions AS (
    SELECT s.system,
           s.location_id,
           s.sku,
           s.snapshot_time,
           s.on_hand + COALESCE(adj.deltas, 0) AS quantity
    FROM snapshots AS s
    LEFT JOIN LATERAL (
        SELECT sum(CAST(a.data ->> 'delta' AS numeric)) AS deltas
        FROM events AS a
        WHERE a.type = 'retail.inventory.adjusted'
          AND a.location_id = s.location_id
          AND a.sku = s.sku
          AND a.data ->> 'system' = s.system
          AND a.time > s.snapshot_time
          AND a.time <= CAST(:as_of AS timestamptz)
    ) AS adj ON true
),
products AS (
    SELECT DISTINCT ON (e.sku)
           e.sku,
           CAST(e.data ->> 'unit_cost' AS numeric) AS unit_cost,
           e.data ->> 'category' AS category
    FROM events AS e
    WHERE e.type = 'retail.product.upserted'
      AND e.time <= CAST(:as_of AS timestamptz)
    ORDER BY e.sku, e.time DESC, e.seq DESC
),
pairs AS (
    SELECT o.location_id,
           o.sku,
           o.system,
           r.quantity AS reference_quantity,
           o.quantity - r.quantity AS diff
    FROM positions AS r
    JOIN positions AS o
      ON o.location_id = r.location_id
     AND o.sku = r.sku
     AND o.system <> r.system
    WHERE r.system = CAST(:reference_system AS text)
),
judged AS (
    SELECT p.*,
           abs(p.diff) > GREATEST(
               CAST(:abs_tolerance_units AS numeric),
               CAST(:pct_tolerance AS numeric) * abs(p.reference_quantity)
           ) AS out_of_tolerance,
           COALESCE(pr.unit_cost, 0) AS unit_cost,
           pr.category
    FROM pairs AS p
    LEFT JOIN products AS pr ON pr.sku = p.sku
)
SELECT CASE CAST(:dimension AS text)
           WHEN 'location' THEN j.location_id COLLATE "C"
           WHEN 'system' THEN j.system COLLATE "C"
           WHEN 'category' THEN j.category COLLATE "C"
       END AS key,
       CAST(count(*) AS bigint) AS pairs_compared,
       CAST(count(*) FILTER (WHERE j.out_of_tolerance) AS bigint) AS out_of_tolerance,
       CAST(COALESCE(sum(abs(j.diff)) FILTER (WHERE j.out_of_tolerance), 0) AS bigint) AS variance_units,
       CAST(COALESCE(sum(abs(j.diff) * j.unit_cost) FILTER (WHERE j.out_of_tolerance), 0)
            AS double precision) AS variance_value
FROM judged AS j
GROUP BY 1
ORDER BY 1 NULLS LAST
