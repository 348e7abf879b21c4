INSERT INTO source_activity AS a (source, first_received_at, last_received_at, last_event_time, received, accepted)
VALUES (:source, now(), now(), :last_event_time, :received, :accepted)
ON CONFLICT (source) DO UPDATE SET
    last_received_at = now(),
    last_event_time  = greatest(a.last_event_time, excluded.last_event_time),
    received         = a.received + excluded.received,
    accepted         = a.accepted + excluded.accepted
