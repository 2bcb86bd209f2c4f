-- Every current user (no password hashes).
SELECT id, username, email, full_name, effective_roles(roles, idp_groups) AS roles, groups, idp_groups, login_type, status FROM users WHERE deleted_at IS NULL ORDER BY username
