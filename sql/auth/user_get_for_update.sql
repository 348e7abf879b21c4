-- One account by name, locked for the rest of the transaction (changes to it).
SELECT username, role, password_hash, created_at, password_changed_at, removed_at
  FROM users
 WHERE username = :username
   FOR UPDATE
