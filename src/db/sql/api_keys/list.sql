-- The keys of user ${user_id} of kind ${kind} that are not revoked, newest first.
SELECT id, kind, name, created_at, expires_at, last_used_at
FROM api_keys WHERE user_id = ${user_id} AND kind = ${kind} AND revoked_at IS NULL
ORDER BY created_at DESC
