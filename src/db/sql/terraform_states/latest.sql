-- The newest state of workspace ${workspace_id}.
SELECT id, build_id, serial, lineage, state, created_at
FROM terraform_states WHERE workspace_id = ${workspace_id}
ORDER BY id DESC LIMIT 1
