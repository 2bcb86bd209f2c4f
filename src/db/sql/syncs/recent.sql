-- The ${limit} most recent syncs, newest first.
SELECT id, commit_sha, ref, author, message, status, errors, plan_summary, created_at, started_at, finished_at
FROM syncs ORDER BY id DESC LIMIT ${limit}
