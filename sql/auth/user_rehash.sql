-- A stronger hash of the same password (argon2 parameters raised since it was set).
UPDATE users SET password_hash = :password_hash WHERE username = :username
