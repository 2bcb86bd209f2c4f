-- Users (not deleted) who have no git SSH key yet.
SELECT u.id, u.username
FROM users u
WHERE u.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM user_git_ssh_keys k WHERE k.user_id = u.id)
ORDER BY u.username
