-- The keys ${ids} as open channels need them: each with its user's roles now, and, when it is no
-- longer valid, why: revoked (a token) or signed out (a session), expired, or its user suspended or
-- removed. A key that no longer exists at all counts as removed.
SELECT i.id, coalesce(effective_roles(u.roles, u.idp_groups), '{}') AS roles,
       CASE WHEN k.id IS NULL OR u.id IS NULL OR u.deleted_at IS NOT NULL THEN 'its user was removed'
            WHEN u.status <> 'active' THEN 'its user was suspended'
            WHEN k.revoked_at IS NOT NULL AND k.kind = 'session' THEN 'its session was signed out'
            WHEN k.revoked_at IS NOT NULL THEN 'its token was revoked'
            WHEN k.expires_at <= now() THEN (CASE WHEN k.kind = 'session' THEN 'its session expired' ELSE 'its token expired' END)
       END AS reason
FROM unnest(${ids}::uuid[]) AS i(id)
LEFT JOIN api_keys k ON k.id = i.id
LEFT JOIN users u ON u.id = k.user_id
