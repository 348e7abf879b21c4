-- One page of the WMS transactions after an id (OFFSET = (page - 1) * per_page), the row id added as "id".
SELECT (jsonb_build_object('id', seq) || body)::text AS body
FROM sim.wms_transactions
WHERE seq > :since_id
ORDER BY seq
OFFSET :skip
LIMIT :per_page
