UPDATE collector_runs SET
    finished_at  = :finished_at,
    status       = :status,
    pages        = :pages,
    read         = :read,
    accepted     = :accepted,
    duplicate    = :duplicate,
    quarantined  = :quarantined,
    attempts     = :attempts,
    error        = :error,
    cursor_after = CAST(:cursor_after AS jsonb)
WHERE run_id = :run_id
