-- Revoke key ${id} of user ${user_id}; returns it if it was live, and tells every server replica to
-- forget it (NOTIFY coder_git_auth is delivered when this commits).
WITH r AS (
  UPDATE api_keys SET revoked_at = now()
  WHERE id = ${id} AND user_id = ${user_id} AND revoked_at IS NULL
  RETURNING id
)
SELECT id, pg_notify('coder_git_auth', id::text) FROM r
