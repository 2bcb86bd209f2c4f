-- Ids, template version and latest build of the current workspaces named in ${keys} ("owner/name").
SELECT u.username || '/' || w.name AS key, w.id, w.template_version_id
FROM workspaces w JOIN users u ON u.id = w.owner_id
WHERE w.deleted_at IS NULL AND (u.username || '/' || w.name) = ANY(${keys}::text[])
