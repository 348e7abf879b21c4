-- Lock the active admins, so two transactions cannot each remove "the other" last admin.
SELECT username FROM users WHERE role = 'admin' AND removed_at IS NULL FOR UPDATE
