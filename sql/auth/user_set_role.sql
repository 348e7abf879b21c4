UPDATE users SET role = :role WHERE username = :username AND removed_at IS NULL
