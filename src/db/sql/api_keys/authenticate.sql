-- The live key whose secret hashes to ${secret_hash}, with its user, if the key is neither revoked
-- nor expired and the user is active and still exists. A plain read: marking it used is separate
-- and at most once a minute (sql/api_keys/touch.sql), so concurrent requests with one token never
-- queue on a row lock.
SELECT k.id, k.kind, k.name, k.expires_at, k.last_used_at, u.id AS user_id, u.username, effective_roles(u.roles, u.idp_groups) AS roles
FROM api_keys k
JOIN users u ON u.id = k.user_id AND u.deleted_at IS NULL AND u.status = 'active'
WHERE k.secret_hash = ${secret_hash} AND k.revoked_at IS NULL AND k.expires_at > now()
