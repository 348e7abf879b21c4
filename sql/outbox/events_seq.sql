-- The latest event number handed out: an effect collected after this is numbered above it.
SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_seq
