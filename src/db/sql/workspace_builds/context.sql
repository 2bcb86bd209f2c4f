-- Everything a runner needs to run build ${id}: the build, its workspace, owner and template version.
SELECT b.id, b.workspace_id, b.build_number, b.transition, b.status, b.parameters, b.template_version_id,
       w.name AS workspace, u.username AS owner, u.email AS owner_email, t.name AS template,
       v.content_hash, v.files, v.manifest
FROM workspace_builds b
JOIN workspaces w ON w.id = b.workspace_id
JOIN users u ON u.id = w.owner_id
JOIN templates t ON t.id = w.template_id
JOIN template_versions v ON v.id = b.template_version_id
WHERE b.id = ${id}
