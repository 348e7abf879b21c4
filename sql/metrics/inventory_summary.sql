-- Inventory variance, the summary figures (contracts/METRICS.md, "Inventory variance").
-- A picture at :as_of; the window does not apply. One row.
--
-- snapshots  the latest snapshot of each position (system, location_id, sku) at or before
--            :as_of (ties on time: the later arrival, seq). No snapshot, no position.
-- positions  on_hand of that snapshot + the deltas of the same system's adjustments for the
--            same location and sku with snapshot time < time <= :as_of. `reserved` is ignored.
-- products   each sku's latest retail.product.upserted at or before :as_of (unit_cost).
-- pairs      (location, sku, other system) where :reference_system and the other system both
--            hold a position; diff = other - reference.
-- judged     out of tolerance when |diff| > max(:abs_tolerance_units, :pct_tolerance * |reference|),
--            compared in numeric (exact decimals: 0.05 * 100 is 5, not 5.000000000000001).
--
-- Stale: a position whose snapshot is strictly older than :stale_hours at :as_of
-- (:as_of - snapshot time > :stale_hours hours; exactly :stale_hours old is not stale).
--
-- Keep the CTEs in step with inventory_breakdown.sql (a test checks the totals agree).
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
           CAST(e.data ->> 'unit_cost' AS numeric) AS unit_cost
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
           COALESCE(pr.unit_cost, 0) AS unit_cost
    FROM pairs AS p
    LEFT JOIN products AS pr ON pr.sku = p.sku
),
pair_figures AS (
    SELECT count(*) AS pairs_compared,
           count(*) FILTER (WHERE out_of_tolerance) AS out_of_tolerance,
           COALESCE(sum(abs(diff)) FILTER (WHERE out_of_tolerance), 0) AS variance_units,
           COALESCE(sum(abs(diff) * unit_cost) FILTER (WHERE out_of_tolerance), 0) AS variance_value
    FROM judged
),
position_figures AS (
    SELECT count(*) FILTER (WHERE quantity < 0) AS negative_positions,
           count(*) FILTER (
               WHERE CAST(:as_of AS timestamptz) - snapshot_time
                     > CAST(:stale_hours AS double precision) * interval '1 hour'
           ) AS stale_positions
    FROM positions
)
SELECT CAST(pf.pairs_compared AS bigint) AS pairs_compared,
       CAST(pf.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(pf.variance_units AS bigint) AS variance_units,
       CAST(pf.variance_value AS double precision) AS variance_value,
       CAST(po.negative_positions AS bigint) AS negative_positions,
       CAST(po.stale_positions AS bigint) AS stale_positions
FROM pair_figures AS pf
CROSS JOIN position_figures AS po
