-- One account by name, removed or not.
SELECT username, role, password_hash, created_at, password_changed_at, removed_at
  FROM users
 WHERE username = :username
