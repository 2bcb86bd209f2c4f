-- Soft-delete the users named in ${usernames} (a text array).
UPDATE users SET deleted_at = now(), updated_at = now()
WHERE username = ANY(${usernames}::text[]) AND deleted_at IS NULL
