-- Revoke key ${id} of user ${user_id}; returns it if it was live.
UPDATE api_keys SET revoked_at = now()
WHERE id = ${id} AND user_id = ${user_id} AND revoked_at IS NULL
RETURNING id
