-- A new agent of build ${build_id}; only the hash of its token is stored.
INSERT INTO agents (workspace_id, build_id, name, token_hash)
VALUES (${workspace_id}, ${build_id}, ${name}, ${token_hash})
RETURNING id, workspace_id, build_id, name, lifecycle, created_at
