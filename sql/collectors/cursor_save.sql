INSERT INTO source_cursors (source, cursor, updated_at, run_id)
VALUES (:source, CAST(:cursor AS jsonb), now(), :run_id)
ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = now(), run_id = excluded.run_id
