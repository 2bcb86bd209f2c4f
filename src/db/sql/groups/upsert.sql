-- Create or update groups from ${rows}: [{name, display_name, members, roles, oidc_group, quota}].
INSERT INTO groups (name, display_name, members, roles, oidc_group, quota)
SELECT r.name, r.display_name, r.members, r.roles, r.oidc_group, r.quota
FROM jsonb_to_recordset(${rows:json}::jsonb)
  AS r(name text, display_name text, members text[], roles text[], oidc_group text, quota jsonb)
ON CONFLICT (name) DO UPDATE SET
  display_name = EXCLUDED.display_name,
  members = EXCLUDED.members,
  roles = EXCLUDED.roles,
  oidc_group = EXCLUDED.oidc_group,
  quota = EXCLUDED.quota,
  updated_at = now()
