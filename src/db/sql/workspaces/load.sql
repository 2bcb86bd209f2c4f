-- Every current workspace, with its owner's and template's names, the content hash of the template
-- version it asks for, and its latest build: what that build was made with (version and
-- parameters), which is what the plan compares with to decide on a new build.
SELECT w.id, u.username AS owner, w.name, t.name AS template, w.template_version_id, v.content_hash,
       w.parameters, w.desired_state, w.scheduled_state, w.schedule, w.ports, w.cost::float8 AS cost,
       b.id AS build_id, b.build_number, b.transition AS build_transition, b.status AS build_status,
       b.finished_at AS build_finished_at, bv.content_hash AS build_hash, b.parameters AS build_parameters
FROM workspaces w
JOIN users u ON u.id = w.owner_id
JOIN templates t ON t.id = w.template_id
LEFT JOIN template_versions v ON v.id = w.template_version_id
LEFT JOIN workspace_builds b ON b.id = w.latest_build_id
LEFT JOIN template_versions bv ON bv.id = b.template_version_id
WHERE w.deleted_at IS NULL
ORDER BY u.username, w.name
