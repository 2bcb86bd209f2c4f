-- Every current user (no password hashes).
SELECT id, username, email, full_name, roles, login_type, status FROM users WHERE deleted_at IS NULL ORDER BY username
