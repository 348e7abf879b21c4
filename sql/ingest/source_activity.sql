-- Per source of one batch: heard from now; valid events received; accepted, and their
-- latest time. One statement for all the batch's sources (arrays of the same length,
-- sorted by source so concurrent batches lock the rows in one order): a row a source
-- took one round trip each, 11 ms a batch of 10,000 events from 600 sources.
INSERT INTO source_activity AS a (source, first_received_at, last_received_at, last_event_time, received, accepted)
SELECT u.source, now(), now(), u.last_event_time, u.received, u.accepted
  FROM unnest(CAST(:sources AS text[]), CAST(:received AS bigint[]), CAST(:accepted AS bigint[]),
              CAST(:last_event_times AS timestamptz[]))
       WITH ORDINALITY AS u(source, received, accepted, last_event_time, n)
 ORDER BY u.n
ON CONFLICT (source) DO UPDATE SET
    last_received_at = now(),
    last_event_time  = greatest(a.last_event_time, excluded.last_event_time),
    received         = a.received + excluded.received,
    accepted         = a.accepted + excluded.accepted
