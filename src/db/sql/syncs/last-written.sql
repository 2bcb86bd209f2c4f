-- The newest sync whose changes were written: applied, or applying (its builds still running).
SELECT id, commit_sha, ref, author, message, status, created_at, finished_at
FROM syncs WHERE status IN ('applied', 'applying') ORDER BY id DESC LIMIT 1
