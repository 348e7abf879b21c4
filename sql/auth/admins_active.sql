-- How many accounts can still administer (the last one may not be removed or demoted).
SELECT count(*) FROM users WHERE role = 'admin' AND removed_at IS NULL
