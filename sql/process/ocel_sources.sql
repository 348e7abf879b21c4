-- The sources of imported OCEL logs (the `ocel` kind's default source is "ocel/<name>"),
-- from source_activity (one row a source: no scan of events). For the Process page.
SELECT source, accepted AS events, last_event_time
  FROM source_activity
 WHERE source LIKE 'ocel/%'
 ORDER BY source
