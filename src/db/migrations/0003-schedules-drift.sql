-- Schedules and drift.
--
-- scheduled_state: the state the schedule last put the workspace in (autostart → running, autostop
-- or inactivity → stopped). While set, it is the workspace's desired state instead of git's `state:`;
-- a commit that changes `state:` clears it (git's newer word wins). See README "Schedules".
ALTER TABLE workspaces ADD COLUMN scheduled_state text CHECK (scheduled_state IN ('running', 'stopped'));

-- Drift: the last `terraform plan` of a running workspace. drift_detected_at is set while the plan
-- shows changes and cleared by a clean check or a successful build.
ALTER TABLE workspaces ADD COLUMN drift_checked_at timestamptz;
ALTER TABLE workspaces ADD COLUMN drift_detected_at timestamptz;
ALTER TABLE workspaces ADD COLUMN drift jsonb;

-- Activity reported by an agent (sessions, terminal and SSH use): moves the autostop deadline.
ALTER TABLE agents ADD COLUMN last_activity_at timestamptz;
