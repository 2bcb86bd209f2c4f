-- A user's new key (a reset, or a re-encryption under another key): ${user_id}, ${public_key},
-- ${private_key} (bytea), ${key_id}; ${reset}: a new key pair (created_at moves), not the same one re-sealed.
INSERT INTO user_git_ssh_keys (user_id, public_key, private_key, key_id)
VALUES (${user_id}, ${public_key}, ${private_key}, ${key_id})
ON CONFLICT (user_id) DO UPDATE SET
  public_key = EXCLUDED.public_key,
  private_key = EXCLUDED.private_key,
  key_id = EXCLUDED.key_id,
  created_at = CASE WHEN ${reset} THEN now() ELSE user_git_ssh_keys.created_at END,
  updated_at = now()
RETURNING public_key, created_at
