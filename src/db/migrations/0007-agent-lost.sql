-- When a running workspace's agent was found gone for longer than its template's connection timeout
-- (runner/agents.ts); cleared when its agent is connected again or a new build succeeds.
ALTER TABLE workspaces ADD COLUMN agent_lost_at timestamptz;
-- A self-heal start for a lost agent is a build of its own reason.
ALTER TABLE workspace_builds DROP CONSTRAINT workspace_builds_reason_check;
ALTER TABLE workspace_builds ADD CONSTRAINT workspace_builds_reason_check CHECK (reason IN ('sync', 'autostart', 'autostop', 'inactivity', 'drift', 'agent-lost', 'retry', 'manual'));
