-- The current user named ${username} (case-insensitive), or with email ${email}, for signing in.
SELECT id, username, email, effective_roles(roles, idp_groups) AS roles, login_type, status, password_hash
FROM users
WHERE deleted_at IS NULL AND (lower(username) = lower(${username}) OR lower(email) = lower(${email}))
LIMIT 1
