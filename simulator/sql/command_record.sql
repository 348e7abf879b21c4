-- Record a command once; no row back when its command_id was seen before.
INSERT INTO sim.commands (command_id, system, kind, sim_time, body)
VALUES (:command_id, :system, :kind, :sim_time, CAST(:body AS jsonb))
ON CONFLICT (command_id) DO NOTHING
RETURNING command_id
