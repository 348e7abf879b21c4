-- A kept figure (metrics/past.py), if it is still right: no batch numbered after the one it
-- had seen stored an event at or before its as_of (sql/migrations/0021_past_figures.sql).
-- Parameters: :key.
SELECT p.figures
  FROM past_figures p
 WHERE p.key = :key
   AND NOT EXISTS (SELECT 1 FROM batch_horizons b WHERE b.number > p.horizon AND b.earliest <= p.as_of)
