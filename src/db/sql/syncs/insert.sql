-- Record a commit seen: returns the new sync's id.
INSERT INTO syncs (commit_sha, ref, author, message, status, errors, plan_summary)
VALUES (${commit_sha}, ${ref}, ${author}, ${message}, ${status}, ${errors:json}, ${plan_summary:json})
RETURNING id
