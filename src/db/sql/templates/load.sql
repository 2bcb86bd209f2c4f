-- Every current template with the content hash of its active version.
SELECT t.id, t.name, t.display_name, t.description, t.icon, t.active_version_id, v.content_hash AS active_hash
FROM templates t
LEFT JOIN template_versions v ON v.id = t.active_version_id
WHERE t.deleted_at IS NULL
ORDER BY t.name
