-- Accounts by name; removed ones only when asked for.
SELECT username, role, created_at, password_changed_at, removed_at
  FROM users
 WHERE CAST(:include_removed AS boolean) OR removed_at IS NULL
 ORDER BY username
