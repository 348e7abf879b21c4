-- Inventory variance by location, by system or by sku category (contracts/METRICS.md,
-- "Inventory variance", Breakdowns). A picture at :as_of; the window does not apply.
--
-- :dimension is 'location' (the pair's location_id), 'system' (the pair's other system,
-- never the reference) or 'category' (data.category of the sku's latest
-- retail.product.upserted at or before :as_of; NULL when unknown). One row per key that
-- has at least one pair, with that key's pair figures.
--
WITH judged AS (  -- inventory_pairs_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM inventory_pairs_at(CAST(:as_of AS timestamptz), CAST(:reference_system AS text),
                              CAST(:abs_tolerance_units AS numeric), CAST(:pct_tolerance AS numeric)) AS j
     WHERE true
       AND (CAST(:node AS text) IS NULL OR j.location_id = :node)  -- scope: metrics/scoping.py
       AND (CAST(:region AS text) IS NULL
            OR j.location_id IN (SELECT l.location_id
                          FROM locations_in_region_from_events(CAST(:as_of AS timestamptz), CAST(:region AS text)) AS l))
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
