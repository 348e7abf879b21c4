-- pause or resume a source; its health shows 'paused', or again what its runs say
WITH changed AS (
    UPDATE sources SET paused = :paused, updated_at = now()
    WHERE name = :name
    RETURNING name
)
INSERT INTO source_health AS h (source, status)
SELECT name, CASE WHEN :paused THEN 'paused' ELSE 'never' END FROM changed
ON CONFLICT (source) DO UPDATE SET status = CASE
    WHEN :paused THEN 'paused'
    WHEN h.consecutive_failures >= :down_after THEN 'down'
    WHEN h.last_success_at IS NOT NULL THEN 'up'
    ELSE 'never'
END
RETURNING source
