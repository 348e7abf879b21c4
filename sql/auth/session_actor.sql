-- The account behind a browser's token: not revoked, not expired, account not removed.
-- The role is the account's current one, so a role change applies at once.
SELECT u.username, u.role, s.expires_at
  FROM login_sessions s
  JOIN users u USING (username)
 WHERE s.token_hash = :token_hash
   AND s.revoked_at IS NULL
   AND s.expires_at > :now
   AND u.removed_at IS NULL
