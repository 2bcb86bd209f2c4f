-- Every build of workspace ${owner}/${name} (a current one), newest first, with the commit of the sync
-- that asked for it (if a sync did).
SELECT b.build_number, b.transition, b.status, b.reason, b.error, b.created_at, b.started_at, b.finished_at,
       b.sync_id, s.commit_sha, s.message AS commit_message
FROM workspace_builds b
JOIN workspaces w ON w.id = b.workspace_id AND w.deleted_at IS NULL
JOIN users u ON u.id = w.owner_id
LEFT JOIN syncs s ON s.id = b.sync_id
WHERE u.username = ${owner} AND w.name = ${name}
ORDER BY b.build_number DESC
LIMIT ${limit}
