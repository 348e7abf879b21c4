SELECT name, paused, enabled FROM sources WHERE name = :name
