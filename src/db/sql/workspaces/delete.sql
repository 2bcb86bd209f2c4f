-- Soft-delete workspaces from ${rows}: [{owner, name}].
UPDATE workspaces w SET deleted_at = now(), updated_at = now()
FROM jsonb_to_recordset(${rows:json}::jsonb) AS r(owner text, name text), users u
WHERE u.username = r.owner AND w.owner_id = u.id AND w.name = r.name AND w.deleted_at IS NULL
