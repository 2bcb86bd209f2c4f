-- Every key sealed with another key than ${key_id} (what rotate-keys re-encrypts).
SELECT k.user_id, u.username, k.public_key, k.private_key, k.key_id, k.created_at
FROM user_git_ssh_keys k
JOIN users u ON u.id = k.user_id
WHERE k.key_id <> ${key_id}
ORDER BY u.username
