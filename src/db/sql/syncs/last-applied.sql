-- The newest sync that was applied.
SELECT id, commit_sha, ref, author, message, status, created_at, finished_at
FROM syncs WHERE status = 'applied' ORDER BY id DESC LIMIT 1
