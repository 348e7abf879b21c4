INSERT INTO login_sessions (token_hash, username, created_at, expires_at)
VALUES (:token_hash, :username, :now, :expires_at)
