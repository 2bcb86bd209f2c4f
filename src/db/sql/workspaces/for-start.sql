-- The workspace ${owner}/${name} a person asks to start (start on connect), with its latest build,
-- locked for the transaction that may queue the start (under the apply lock).
SELECT w.id, w.template_version_id, w.parameters, w.scheduled_state,
       b.transition AS build_transition, b.status AS build_status, b.build_number
FROM workspaces w
JOIN users u ON u.id = w.owner_id
LEFT JOIN workspace_builds b ON b.id = w.latest_build_id
WHERE u.username = ${owner} AND w.name = ${name} AND w.deleted_at IS NULL
FOR UPDATE OF w
