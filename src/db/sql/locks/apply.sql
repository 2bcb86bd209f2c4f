-- The apply lock, for the rest of the transaction: no two coder-git writers interleave.
SELECT pg_advisory_xact_lock(${key})
