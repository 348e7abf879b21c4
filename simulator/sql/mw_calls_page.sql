-- One page of the feed after a cursor, in publish order (one row more than asked: has_more).
SELECT seq, body::text AS body
FROM sim.mw_calls
WHERE seq > :after
ORDER BY seq
LIMIT :limit
