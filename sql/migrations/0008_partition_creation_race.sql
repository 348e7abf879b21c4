-- ensure_event_partition (0001) could fail with "relation events_YYYYmMM already exists"
-- when two ingests (say, two collectors started at once) met a month without a partition:
-- the second re-checked under the advisory lock, but its catalog snapshot did not yet see
-- the table the first had just committed. Seen with `ctower demo` at its first collection.
-- Now a creation that loses the race is simply taken as done.
CREATE OR REPLACE FUNCTION ensure_event_partition(ts timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lower_bound timestamptz := date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    upper_bound timestamptz := lower_bound + interval '1 month';
    part_name   text := 'events_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY"m"MM');
BEGIN
    IF to_regclass(part_name) IS NULL THEN
        -- serialise creators so two ingests of the same new month do not collide
        PERFORM pg_advisory_xact_lock(hashtext('ctower.ensure_event_partition'));
        IF to_regclass(part_name) IS NULL THEN
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                               part_name, lower_bound, upper_bound);
            EXCEPTION WHEN duplicate_table THEN
                NULL;  -- created by a concurrent ingest that committed first
            END;
        END IF;
    END IF;
    RETURN part_name;
END;
$$;
