-- The last batch_horizons number this snapshot sees (sql/migrations/0021_past_figures.sql):
-- every batch numbered up to it is visible to the snapshot, none after it.
SELECT COALESCE(max(number), 0) AS horizon FROM batch_horizons
