UPDATE exceptions SET snoozed_until = :until, updated_at = now() WHERE key = :key
