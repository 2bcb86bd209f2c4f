-- Identity and governance (README: Groups, Quotas, Per-user defaults, Signed commits).

-- groups/<name>.yaml as applied. members: as declared; oidc_group: the IdP group whose members
-- join it at sign-in (users.idp_groups).
CREATE TABLE groups (
  name         text PRIMARY KEY,
  display_name text,
  members      text[] NOT NULL DEFAULT '{}',
  roles        text[] NOT NULL DEFAULT '{}',
  oidc_group   text,
  quota        jsonb NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- users.roles keeps the user's own roles and those of their declared groups (what the plan shows);
-- groups: the declared groups; idp_groups: the groups claim of their last OIDC sign-in; quota: their
-- own limits as written; defaults: schedule, shell, dotfiles and GitHub login.
ALTER TABLE users ADD COLUMN groups text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN idp_groups text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN quota jsonb NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN defaults jsonb NOT NULL DEFAULT '{}';

-- What the workspace costs while it runs (its template's cost with its parameters).
ALTER TABLE workspaces ADD COLUMN cost numeric NOT NULL DEFAULT 0;

-- The roles a user has now: theirs (with their declared groups') and those of the groups their
-- last sign-in's claim put them in. Every check of who may do what reads roles through this.
CREATE FUNCTION effective_roles(roles text[], idp_groups text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT r ORDER BY r), '{}')
  FROM (SELECT unnest(roles) AS r
        UNION SELECT unnest(g.roles) FROM groups g WHERE g.oidc_group IS NOT NULL AND g.oidc_group = ANY(idp_groups)) x
$$;

-- A user's limit k now: their own, else the largest of every group they are in (declared or by claim).
CREATE FUNCTION effective_quota(user_id uuid, k text) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT coalesce((u.quota ->> k)::numeric,
                  (SELECT max((g.quota ->> k)::numeric) FROM groups g
                   WHERE g.name = ANY(u.groups) OR (g.oidc_group IS NOT NULL AND g.oidc_group = ANY(u.idp_groups))))
  FROM users u WHERE u.id = user_id
$$;

-- A commit refused for its signature is recorded as untrusted (with the reason in errors).
ALTER TABLE syncs DROP CONSTRAINT syncs_status_check;
ALTER TABLE syncs ADD CONSTRAINT syncs_status_check CHECK (status IN ('invalid', 'untrusted', 'applying', 'applied', 'failed', 'superseded'));
