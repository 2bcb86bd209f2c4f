-- The user a GitHub identity signs in as: the one whose user file says github: ${login}
-- (case-insensitive, as GitHub logins are); else one that names no GitHub login and whose email is
-- among ${emails} (the identity's verified addresses, lower-case). A declared login is the only way in
-- for its user: another GitHub account with the same email does not match it.
SELECT id, username, email, effective_roles(roles, idp_groups) AS roles, login_type, status, password_hash,
       lower(defaults->>'github') = lower(${login}) AS by_login
FROM users
WHERE deleted_at IS NULL
  AND (lower(defaults->>'github') = lower(${login})
       OR (defaults->>'github' IS NULL AND lower(email) = ANY(${emails}::text[])))
ORDER BY by_login DESC, username
LIMIT 1
