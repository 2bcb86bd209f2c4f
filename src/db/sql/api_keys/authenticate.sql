-- The live key whose secret hashes to ${secret_hash}, with its user, if the key is neither revoked
-- nor expired and the user is active and still exists; marks it used.
UPDATE api_keys k SET last_used_at = now()
FROM users u
WHERE k.secret_hash = ${secret_hash} AND k.revoked_at IS NULL AND k.expires_at > now()
  AND u.id = k.user_id AND u.deleted_at IS NULL AND u.status = 'active'
RETURNING k.id, k.kind, k.name, k.expires_at, u.id AS user_id, u.username, u.roles
