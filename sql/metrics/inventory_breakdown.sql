-- Inventory variance by location, by system or by sku category (contracts/METRICS.md,
-- "Inventory variance", Breakdowns). A picture at :as_of; the window does not apply.
--
-- :dimension is 'location' (the pair's location_id), 'system' (the pair's other system,
-- never the reference) or 'category' (data.category of the sku's latest
-- retail.product.upserted at or before :as_of; NULL when unknown). One row per key that
-- has at least one pair, with that key's pair figures.
--
WITH positions AS (  -- positions_at, products_at: sql/migrations/0004_metric_building_blocks.sql
    SELECT * FROM positions_at(CAST(:as_of AS timestamptz))
),
products AS (
    SELECT * FROM products_at(CAST(:as_of AS timestamptz))
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
