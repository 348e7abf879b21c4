INSERT INTO sim.state (key, value, updated_at)
VALUES (:key, CAST(:value AS jsonb), now())
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
