-- Which of these (source, id) keys are stored already, with their content fingerprint.
SELECT k.source, k.id, k.content_hash
FROM event_keys AS k
JOIN unnest(CAST(:sources AS text[]), CAST(:ids AS text[])) AS u(source, id)
  ON k.source = u.source AND k.id = u.id
