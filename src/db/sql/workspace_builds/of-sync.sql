-- The builds sync ${sync_id} asked for, by workspace (deleted workspaces included: a delete build is one).
SELECT u.username AS owner, w.name AS workspace, w.deleted_at IS NOT NULL AS deleted,
       b.build_number, b.transition, b.status, b.reason, b.error, b.created_at, b.finished_at
FROM workspace_builds b
JOIN workspaces w ON w.id = b.workspace_id
JOIN users u ON u.id = w.owner_id
WHERE b.sync_id = ${sync_id}
ORDER BY u.username, w.name, b.build_number
