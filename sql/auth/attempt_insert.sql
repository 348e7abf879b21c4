INSERT INTO login_attempts (username, at, ok, outcome, client)
VALUES (:username, :at, :ok, :outcome, :client)
