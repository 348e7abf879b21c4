-- Inventory variance at an :as_of before some projected event (replay): the figures of
-- inventory_summary.sql from the projections where they hold at :as_of and from events
-- where they do not (sql/migrations/0007_projections.sql; metrics/inventory.py chooses).
--
-- positions  a position_facts row whose last snapshot or adjustment is <= :as_of is its
--            picture at :as_of; any other is recomputed from its own events (index
--            events_position): its latest snapshot at or before :as_of (ties: the later
--            arrival) plus that system's adjustments after it up to :as_of. A position with
--            no snapshot by :as_of holds none.
-- products   each sku's latest upsert at or before :as_of, read from its events.
-- The rest is inventory_summary.sql's rule, as in inventory_summary_projected.sql.
WITH positions AS (
    SELECT p.system, p.location_id, p.sku, p.snapshot_time, p.quantity
      FROM position_facts p
     WHERE p.last_event_at <= :as_of
    UNION ALL
    SELECT p.system, p.location_id, p.sku, s.time, s.on_hand + COALESCE(a.delta, 0)
      FROM position_facts p
     CROSS JOIN LATERAL (
          SELECT e.time, CAST(e.data ->> 'on_hand' AS bigint) AS on_hand
            FROM events e
           WHERE e.location_id = p.location_id AND e.sku = p.sku AND e.time <= :as_of
             AND e.type = 'retail.inventory.snapshot' AND e.data ->> 'system' = p.system
           ORDER BY e.time DESC, e.seq DESC
           LIMIT 1) AS s
      LEFT JOIN LATERAL (
          SELECT CAST(sum(CAST(e.data ->> 'delta' AS bigint)) AS bigint) AS delta
            FROM events e
           WHERE e.location_id = p.location_id AND e.sku = p.sku AND e.time > s.time AND e.time <= :as_of
             AND e.type = 'retail.inventory.adjusted' AND e.data ->> 'system' = p.system) AS a ON true
     WHERE p.last_event_at > :as_of
),
products AS (  -- product events have an sku and no location: one range of index events_position
    SELECT DISTINCT ON (e.sku) e.sku, CAST(e.data ->> 'unit_cost' AS numeric) AS unit_cost
      FROM events e
     WHERE e.location_id IS NULL AND e.sku IS NOT NULL AND e.time <= :as_of
       AND e.type = 'retail.product.upserted'
     ORDER BY e.sku, e.time DESC, e.seq DESC
),
node_kinds AS (  -- location_kinds_at: sql/migrations/0009_location_kinds.sql
    SELECT * FROM location_kinds_at(CAST(:as_of AS timestamptz), CAST(:stale_hours_by_node_kind AS jsonb))
),
keyed AS (  -- each position with its location and sku's reference quantity: one sort, no self-join
    SELECT p.sku, p.system, p.quantity,
           max(p.quantity) FILTER (WHERE p.system = CAST(:reference_system AS text)) OVER w AS reference,
           count(*) FILTER (WHERE p.system = CAST(:reference_system AS text)) OVER w AS references_held
      FROM positions p
    WINDOW w AS (PARTITION BY p.location_id, p.sku)
),
judged AS (
    SELECT k.sku,
           abs(k.quantity - k.reference) AS gap,
           abs(k.quantity - k.reference) > CAST(floor(CAST(:abs_tolerance_units AS numeric)) AS bigint)
           AND abs(k.quantity - k.reference) > CAST(:pct_tolerance AS numeric) * abs(k.reference) AS out_of_tolerance
      FROM keyed k
     WHERE k.references_held > 0 AND k.system <> CAST(:reference_system AS text)
),
pair_figures AS (
    SELECT count(*) AS pairs_compared,
           count(*) FILTER (WHERE j.out_of_tolerance) AS out_of_tolerance,
           COALESCE(sum(j.gap) FILTER (WHERE j.out_of_tolerance), 0) AS variance_units,
           COALESCE(sum(j.gap * COALESCE(pr.unit_cost, 0)) FILTER (WHERE j.out_of_tolerance), 0) AS variance_value
      FROM judged j
      LEFT JOIN products pr ON pr.sku = j.sku
),
position_figures AS (
    SELECT count(*) FILTER (WHERE p.quantity < 0) AS negative_positions,
           count(*) FILTER (
               WHERE p.snapshot_time < CAST(:as_of AS timestamptz)
                     - COALESCE(CAST(CAST(:stale_hours_by_node_kind AS jsonb) ->> k.kind AS double precision),
                                CAST(:stale_hours AS double precision)) * interval '1 hour'
           ) AS stale_positions
      FROM positions AS p
      LEFT JOIN node_kinds AS k ON k.location_id = p.location_id
)
SELECT CAST(pf.pairs_compared AS bigint) AS pairs_compared,
       CAST(pf.out_of_tolerance AS bigint) AS out_of_tolerance,
       CAST(pf.variance_units AS bigint) AS variance_units,
       CAST(pf.variance_value AS double precision) AS variance_value,
       CAST(po.negative_positions AS bigint) AS negative_positions,
       CAST(po.stale_positions AS bigint) AS stale_positions
FROM pair_figures AS pf
CROSS JOIN position_figures AS po
