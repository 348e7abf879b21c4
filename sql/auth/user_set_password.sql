UPDATE users SET password_hash = :password_hash, password_changed_at = :now
 WHERE username = :username AND removed_at IS NULL
