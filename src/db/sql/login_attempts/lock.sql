-- Serialises the limit's check for one account or address across every replica, until the
-- transaction ends (a few milliseconds: the password is checked after it).
SELECT pg_advisory_xact_lock(hashtextextended('coder-git login ' || ${key}, 0))
