-- The newest sync of commit ${commit_sha}, if it was seen.
SELECT id, commit_sha, ref, author, message, status, errors, plan_summary, created_at, started_at, finished_at
FROM syncs WHERE commit_sha = ${commit_sha} ORDER BY id DESC LIMIT 1
