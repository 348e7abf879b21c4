-- Sign an account out everywhere (removed, or its password changed).
UPDATE login_sessions SET revoked_at = :now
 WHERE username = :username AND revoked_at IS NULL AND expires_at > :now
