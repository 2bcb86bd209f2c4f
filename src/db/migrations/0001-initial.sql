-- coder-git's state: what was applied from git, and what happened since.
-- Objects that leave git are soft-deleted (deleted_at), so builds, logs and the audit log that
-- refer to them keep their meaning.

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL,
  email         text NOT NULL,
  full_name     text,
  roles         text[] NOT NULL DEFAULT '{member}',
  login_type    text NOT NULL CHECK (login_type IN ('password', 'oidc', 'none')),
  status        text NOT NULL CHECK (status IN ('active', 'suspended')),
  password_hash text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);
CREATE UNIQUE INDEX users_username ON users (username) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE deleted_at IS NULL;

CREATE TABLE templates (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name              text NOT NULL,
  display_name      text,
  description       text,
  icon              text,
  active_version_id uuid,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz
);
CREATE UNIQUE INDEX templates_name ON templates (name) WHERE deleted_at IS NULL;

-- One row per distinct content of a template folder; the hash covers every file.
CREATE TABLE template_versions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  template_id  uuid NOT NULL REFERENCES templates (id),
  content_hash text NOT NULL,
  commit_sha   text,
  manifest     jsonb NOT NULL,          -- template.yaml, typed and defaulted
  files        jsonb NOT NULL,          -- { "main.tf": "<base64>", ... }
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (template_id, content_hash)
);
ALTER TABLE templates ADD FOREIGN KEY (active_version_id) REFERENCES template_versions (id);

CREATE TABLE syncs (
  id           bigserial PRIMARY KEY,
  commit_sha   text NOT NULL,
  ref          text,
  author       text,
  message      text,
  status       text NOT NULL CHECK (status IN ('invalid', 'planned', 'applying', 'applied', 'failed', 'superseded')),
  errors       jsonb NOT NULL DEFAULT '[]',
  plan_summary jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX syncs_recent ON syncs (id DESC);
CREATE INDEX syncs_commit ON syncs (commit_sha);

CREATE TABLE workspaces (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id            uuid NOT NULL REFERENCES users (id),
  name                text NOT NULL,
  template_id         uuid NOT NULL REFERENCES templates (id),
  template_version_id uuid REFERENCES template_versions (id),   -- the version the desired state asks for
  parameters          jsonb NOT NULL DEFAULT '{}',
  desired_state       text NOT NULL CHECK (desired_state IN ('running', 'stopped')),
  schedule            jsonb NOT NULL DEFAULT '{}',
  latest_build_id     uuid,
  -- Who is building it, until when: set with the job claim on this very row, so no two workers
  -- ever build one workspace at once (see sql/build_jobs/claim.sql).
  build_lease_by      text,
  build_lease_until   timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  deleted_at          timestamptz
);
CREATE UNIQUE INDEX workspaces_owner_name ON workspaces (owner_id, name) WHERE deleted_at IS NULL;

CREATE TABLE workspace_builds (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id        uuid NOT NULL REFERENCES workspaces (id),
  build_number        integer NOT NULL,
  transition          text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
  status              text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'canceled', 'interrupted')),
  reason              text NOT NULL CHECK (reason IN ('sync', 'autostart', 'autostop', 'inactivity', 'drift', 'retry', 'manual')),
  template_version_id uuid NOT NULL REFERENCES template_versions (id),
  parameters          jsonb NOT NULL DEFAULT '{}',
  sync_id             bigint REFERENCES syncs (id),
  runner_id           text,
  error               text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz,
  UNIQUE (workspace_id, build_number)
);
ALTER TABLE workspaces ADD FOREIGN KEY (latest_build_id) REFERENCES workspace_builds (id);
CREATE INDEX workspace_builds_status ON workspace_builds (status) WHERE status IN ('pending', 'running');

-- Terraform state, versioned: a new row each time Terraform writes state during a build, so a
-- runner killed mid-apply leaves the last state Terraform reported, never nothing.
CREATE TABLE terraform_states (
  id           bigserial PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id),
  build_id     uuid REFERENCES workspace_builds (id),
  serial       bigint NOT NULL,
  lineage      text NOT NULL,
  state        bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX terraform_states_latest ON terraform_states (workspace_id, id DESC);

CREATE TABLE build_logs (
  id       bigserial PRIMARY KEY,
  build_id uuid NOT NULL REFERENCES workspace_builds (id),
  at       timestamptz NOT NULL DEFAULT now(),
  stream   text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  line     text NOT NULL
);
CREATE INDEX build_logs_build ON build_logs (build_id, id);

-- The build queue: taken with FOR UPDATE SKIP LOCKED; a lease that runs out marks a dead runner.
CREATE TABLE build_jobs (
  id             bigserial PRIMARY KEY,
  build_id       uuid NOT NULL UNIQUE REFERENCES workspace_builds (id),
  workspace_id   uuid NOT NULL REFERENCES workspaces (id),
  run_after      timestamptz NOT NULL DEFAULT now(),
  attempts       integer NOT NULL DEFAULT 0,
  locked_by      text,
  lease_until    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX build_jobs_ready ON build_jobs (run_after, id) WHERE locked_by IS NULL;

CREATE TABLE agents (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id       uuid NOT NULL REFERENCES workspaces (id),
  build_id           uuid NOT NULL REFERENCES workspace_builds (id),
  name               text NOT NULL DEFAULT 'main',
  token_hash         bytea NOT NULL UNIQUE,       -- sha256 of the agent token
  lifecycle          text NOT NULL DEFAULT 'created'
                     CHECK (lifecycle IN ('created', 'starting', 'ready', 'start_error', 'shutting_down', 'off')),
  version            text,
  os                 text,
  arch               text,
  first_connected_at timestamptz,
  last_connected_at  timestamptz,
  disconnected_at    timestamptz,
  last_heartbeat_at  timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_workspace ON agents (workspace_id, created_at DESC);

-- Sessions (from the login page) and API tokens: only a hash of the secret is kept.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id),
  kind         text NOT NULL CHECK (kind IN ('session', 'token')),
  name         text,
  secret_hash  bytea NOT NULL UNIQUE,             -- sha256 of the secret
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,             -- a username, "git:<author>", or "system"
  action  text NOT NULL,             -- login, login_failed, token_created, user_created, ...
  target  text,
  details jsonb NOT NULL DEFAULT '{}',
  sync_id bigint REFERENCES syncs (id),
  ip      inet
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
