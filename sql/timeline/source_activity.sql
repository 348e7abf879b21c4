-- What ingest knows of one source: first and last arrival, latest business time, counts.
SELECT first_received_at, last_received_at, last_event_time, received, accepted
  FROM source_activity
 WHERE source = :key
