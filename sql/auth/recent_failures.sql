-- The wrong attempts for one name in (:since, :now], after its last successful sign-in,
-- newest first: the lockout counts them (refusals while locked are not counted).
SELECT at
  FROM login_attempts
 WHERE username = :username
   AND at > :since AND at <= :now
   AND outcome IN ('wrong_password', 'unknown_user', 'removed')
   AND at > coalesce((SELECT max(s.at) FROM login_attempts s
                       WHERE s.username = :username AND s.ok AND s.at <= :now), '-infinity')
 ORDER BY at DESC
 LIMIT :max_failures
