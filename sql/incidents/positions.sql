-- The attached positions (SKU@LOCATION) at :as_of (metrics/incidents.py, impact): each
-- system's quantity there, as contracts/METRICS.md defines a position's quantity (latest
-- snapshot at or before :as_of plus that system's adjustments after it), and the sku's
-- unit_cost at :as_of (0 when unknown). From the projections (position_facts,
-- product_facts) when they are not ahead of :as_of, else recomputed from the events of that
-- one position or sku (indexes events_position). A system without a snapshot at or before
-- :as_of holds no position there: no row.
-- Parameters: :locations, :skus (text[], pairwise), :as_of.
WITH targets AS (
    SELECT DISTINCT location_id, sku
      FROM unnest(CAST(:locations AS text[]), CAST(:skus AS text[])) AS t(location_id, sku)
),
systems AS (
    SELECT t.location_id, t.sku, p.system,
           CASE WHEN p.last_event_at <= CAST(:as_of AS timestamptz) THEN p.quantity ELSE r.quantity END AS quantity
      FROM targets t
      JOIN position_facts p ON p.location_id = t.location_id AND p.sku = t.sku
      LEFT JOIN LATERAL (
          SELECT s.on_hand + COALESCE((
                     SELECT sum(CAST(a.data ->> 'delta' AS bigint))
                       FROM events a
                      WHERE a.location_id = t.location_id AND a.sku = t.sku
                        AND a.type = 'retail.inventory.adjusted' AND a.data ->> 'system' = p.system
                        AND a.time > s.time AND a.time <= CAST(:as_of AS timestamptz)), 0) AS quantity
            FROM (SELECT e.time, CAST(e.data ->> 'on_hand' AS bigint) AS on_hand
                    FROM events e
                   WHERE e.location_id = t.location_id AND e.sku = t.sku
                     AND e.type = 'retail.inventory.snapshot' AND e.data ->> 'system' = p.system
                     AND e.time <= CAST(:as_of AS timestamptz)
                     AND p.last_event_at > CAST(:as_of AS timestamptz)
                   ORDER BY e.time DESC, e.seq DESC
                   LIMIT 1) AS s
      ) AS r ON true
),
costs AS (
    SELECT t.sku,
           CASE WHEN pr.time <= CAST(:as_of AS timestamptz) THEN pr.unit_cost
                ELSE (SELECT CAST(e.data ->> 'unit_cost' AS numeric)
                        FROM events e
                       WHERE e.location_id IS NULL AND e.sku = t.sku
                         AND e.type = 'retail.product.upserted'
                         AND e.time <= CAST(:as_of AS timestamptz)
                       ORDER BY e.time DESC, e.seq DESC
                       LIMIT 1)
           END AS unit_cost
      FROM (SELECT DISTINCT sku FROM targets) AS t
      LEFT JOIN product_facts pr ON pr.sku = t.sku
)
SELECT s.location_id, s.sku, s.system, s.quantity, COALESCE(c.unit_cost, 0) AS unit_cost
  FROM systems s
  JOIN costs c ON c.sku = s.sku
 WHERE s.quantity IS NOT NULL
 ORDER BY s.sku, s.location_id, s.system
