-- A session or API token of user ${user_id}; only the hash of its secret is stored.
INSERT INTO api_keys (user_id, kind, name, secret_hash, expires_at)
VALUES (${user_id}, ${kind}, ${name}, ${secret_hash}, ${expires_at})
RETURNING id, user_id, kind, name, created_at, expires_at
