-- Create or update users from ${rows}: a JSON array of {username, email, full_name, roles, login_type,
-- status, password_hash, groups, quota, defaults} (the last three may be left out: none).
INSERT INTO users (username, email, full_name, roles, login_type, status, password_hash, groups, quota, defaults)
SELECT r.username, r.email, r.full_name, r.roles, r.login_type, r.status, r.password_hash, coalesce(r.groups, '{}'), coalesce(r.quota, '{}'), coalesce(r.defaults, '{}')
FROM jsonb_to_recordset(${rows:json}::jsonb)
  AS r(username text, email text, full_name text, roles text[], login_type text, status text, password_hash text, groups text[], quota jsonb, defaults jsonb)
ON CONFLICT (username) WHERE deleted_at IS NULL DO UPDATE SET
  email = EXCLUDED.email,
  full_name = EXCLUDED.full_name,
  roles = EXCLUDED.roles,
  login_type = EXCLUDED.login_type,
  status = EXCLUDED.status,
  password_hash = EXCLUDED.password_hash,
  groups = EXCLUDED.groups,
  quota = EXCLUDED.quota,
  defaults = EXCLUDED.defaults,
  updated_at = now()
