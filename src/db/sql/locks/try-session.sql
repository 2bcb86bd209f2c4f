-- A lock held for as long as this connection lives (the reconciler's leadership).
SELECT pg_try_advisory_lock(${key}) AS ok
