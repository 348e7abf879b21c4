-- Remove an account: it keeps its row (the audit log names it) but cannot sign in.
UPDATE users SET removed_at = :now WHERE username = :username AND removed_at IS NULL
