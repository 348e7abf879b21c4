UPDATE exceptions SET assignee = :assignee, updated_at = now() WHERE key = :key
