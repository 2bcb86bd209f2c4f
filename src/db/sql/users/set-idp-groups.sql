-- User ${id} signed in with OIDC and their groups claim said ${groups}; returns whether it changed
-- (then every server replica forgets their cached keys: their roles may have changed).
WITH u AS (
  UPDATE users SET idp_groups = ${groups}::text[]
  WHERE id = ${id} AND idp_groups IS DISTINCT FROM ${groups}::text[]
  RETURNING id
)
SELECT count(*) > 0 AS changed FROM u
