-- Sync ${id}, with the plan it applied.
SELECT id, commit_sha, ref, author, message, status, errors, plan_summary, plan, created_at, started_at, finished_at
FROM syncs WHERE id = ${id}
