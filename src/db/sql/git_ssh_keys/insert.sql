-- New keys from ${rows}: a JSON array of {user_id, public_key, private_key (base64), key_id}. A key
-- made meanwhile by another writer wins (the first one stays).
INSERT INTO user_git_ssh_keys (user_id, public_key, private_key, key_id)
SELECT r.user_id, r.public_key, decode(r.private_key, 'base64'), r.key_id
FROM jsonb_to_recordset(${rows:json}::jsonb) AS r(user_id uuid, public_key text, private_key text, key_id text)
ON CONFLICT (user_id) DO NOTHING
