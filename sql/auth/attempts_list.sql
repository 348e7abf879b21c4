-- Recent sign-in attempts, newest first.
SELECT username, at, ok, outcome, client
  FROM login_attempts
 WHERE (CAST(:username AS text) IS NULL OR username = :username)
 ORDER BY at DESC, attempt_id DESC
 LIMIT :limit
