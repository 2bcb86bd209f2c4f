-- The git SSH key of the owner of agent ${agent_id}'s workspace: the one that agent may sign with.
SELECT k.user_id, u.username, k.public_key, k.private_key, k.key_id, k.created_at
FROM agents a
JOIN workspaces w ON w.id = a.workspace_id
JOIN users u ON u.id = w.owner_id AND u.deleted_at IS NULL
JOIN user_git_ssh_keys k ON k.user_id = u.id
WHERE a.id = ${agent_id}
