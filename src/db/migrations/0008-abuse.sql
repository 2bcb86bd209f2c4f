-- Holding against abuse: the sign-in limit, webhook deliveries, agents' current connection.
-- Password sign-in attempts, for the limit (src/server/login.ts). An attempt is recorded before its
-- password is checked and counts as a failure until it is known to have succeeded, so parallel
-- guesses cannot all pass the limit's check at once. account_key is 'user:<id>' for a declared user
-- (whatever name or email was typed), else a SHA-256 of the name typed: never the text itself, which
-- may be a password typed into the wrong field. Rows older than a day are deleted as new ones come.
CREATE TABLE login_attempts (
  id          bigserial PRIMARY KEY,
  account_key text NOT NULL,
  ip          inet NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  succeeded   boolean NOT NULL DEFAULT false
);
CREATE INDEX login_attempts_account ON login_attempts (account_key, at) WHERE NOT succeeded;
CREATE INDEX login_attempts_ip ON login_attempts (ip, at) WHERE NOT succeeded;
CREATE INDEX login_attempts_at ON login_attempts (at);

-- Git webhook deliveries already acted on (GitHub's X-GitHub-Delivery, GitLab's X-Gitlab-Event-UUID),
-- so a delivery sent again is answered without another refresh; kept for a day.
CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);

-- Which of an agent's connections is the current one: only it may mark the agent disconnected, so a
-- stale socket with the same token, dropped late, does not make the live agent look gone.
ALTER TABLE agents ADD COLUMN connection_id uuid;
