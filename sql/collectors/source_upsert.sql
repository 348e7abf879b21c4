INSERT INTO sources AS s (name, kind, schedule_seconds, enabled, options, mapping, system, updated_at)
VALUES (:name, :kind, :schedule_seconds, :enabled, CAST(:options AS jsonb), CAST(:mapping AS jsonb), :system, now())
ON CONFLICT (name) DO UPDATE SET
    kind             = excluded.kind,
    schedule_seconds = excluded.schedule_seconds,
    enabled          = excluded.enabled,
    options          = excluded.options,
    mapping          = excluded.mapping,
    system           = excluded.system,
    updated_at       = now()
WHERE (s.kind, s.schedule_seconds, s.enabled, s.options, s.mapping, s.system)
      IS DISTINCT FROM (excluded.kind, excluded.schedule_seconds, excluded.enabled, excluded.options,
                        excluded.mapping, excluded.system)
