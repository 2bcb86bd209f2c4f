-- The server: agents' startup logs (capped per agent), and what login rate limiting reads.

CREATE TABLE agent_logs (
  id       bigserial PRIMARY KEY,
  agent_id uuid NOT NULL REFERENCES agents (id),
  at       timestamptz NOT NULL DEFAULT now(),
  stream   text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  line     text NOT NULL
);
CREATE INDEX agent_logs_agent ON agent_logs (agent_id, id);

-- Bytes of startup log kept for the agent; past the cap lines are dropped and the overflow recorded.
ALTER TABLE agents ADD COLUMN log_bytes integer NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN log_overflowed boolean NOT NULL DEFAULT false;

-- Failed logins of the last minutes, by address and by username (the rate limit counts them here,
-- so it holds across server replicas and restarts).
CREATE INDEX audit_log_login_failed ON audit_log (at) WHERE action = 'login_failed';

-- coder-git.yaml as last applied: the server reads its access URL and sign-in settings from here.
CREATE TABLE deployment (
  id         integer PRIMARY KEY CHECK (id = 1),
  config     jsonb NOT NULL,
  commit_sha text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
