-- The git SSH key of user ${user_id} (the sealed private half too: only the agent's route opens it).
SELECT k.user_id, u.username, k.public_key, k.private_key, k.key_id, k.created_at
FROM user_git_ssh_keys k
JOIN users u ON u.id = k.user_id
WHERE k.user_id = ${user_id} AND u.deleted_at IS NULL
