-- Workspaces whose latest build failed or was interrupted, with the error.
SELECT u.username || '/' || w.name AS workspace, b.build_number, b.transition, b.status, b.error, b.finished_at
FROM workspaces w JOIN users u ON u.id = w.owner_id JOIN workspace_builds b ON b.id = w.latest_build_id
WHERE w.deleted_at IS NULL AND b.status IN ('failed', 'interrupted')
ORDER BY b.finished_at DESC NULLS LAST
