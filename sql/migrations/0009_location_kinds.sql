-- The kind of each location at an instant (data.kind of its latest retail.location.upserted
-- at or before p_as_of; ties: the later arrival), used by the per-node-kind stale_hours
-- rule of the inventory figures and the stale_inventory detector. Empty, without reading
-- anything, when p_by_kind (the stale_hours_by_node_kind policy) has no entry: the kinds
-- are only needed for an override. Inlined by PostgreSQL into each query.
CREATE FUNCTION location_kinds_at(p_as_of timestamptz, p_by_kind jsonb)
RETURNS TABLE (location_id text, kind text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (e.location_id) e.location_id, e.data ->> 'kind'
      FROM events e
     WHERE e.type = 'retail.location.upserted'
       AND e.location_id IS NOT NULL
       AND e.time <= p_as_of
       AND p_by_kind <> '{}'::jsonb
     ORDER BY e.location_id, e.time DESC, e.seq DESC
$$;
