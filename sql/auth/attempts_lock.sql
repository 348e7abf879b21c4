-- Serialise the sign-in attempts of one name (until commit), so two wrong passwords sent at
-- once cannot both slip under the lockout. 1668246387 is b'cTal'; the name is hashed in.
SELECT pg_advisory_xact_lock(1668246387, hashtext(:username))
