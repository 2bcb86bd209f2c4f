-- The agent whose token hashes to ${token_hash}, if its build is still its workspace's latest one
-- (an old build's token grants nothing).
SELECT a.id, a.workspace_id, a.build_id, a.name, a.lifecycle, a.first_connected_at, a.last_connected_at,
       a.disconnected_at, a.last_heartbeat_at
FROM agents a
JOIN workspaces w ON w.id = a.workspace_id AND w.latest_build_id = a.build_id AND w.deleted_at IS NULL
WHERE a.token_hash = ${token_hash}
