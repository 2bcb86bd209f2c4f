-- Every current user.
SELECT id, username, email, full_name, roles, login_type, status, password_hash, groups, quota, defaults
FROM users
WHERE deleted_at IS NULL
ORDER BY username
