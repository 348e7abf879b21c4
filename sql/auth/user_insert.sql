-- A new account, or a removed one brought back with a new role and password.
INSERT INTO users (username, role, password_hash, created_at, password_changed_at)
VALUES (:username, :role, :password_hash, :now, :now)
ON CONFLICT (username) DO UPDATE
   SET role = EXCLUDED.role,
       password_hash = EXCLUDED.password_hash,
       created_at = EXCLUDED.created_at,
       password_changed_at = EXCLUDED.password_changed_at,
       removed_at = NULL
 WHERE users.removed_at IS NOT NULL
RETURNING username
