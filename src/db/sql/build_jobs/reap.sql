-- Builds whose runner died: running, with the job's lease run out. Each is marked interrupted (never
-- resumed blindly: the next plan builds it again from the state Terraform recorded) and its job and
-- workspace lease are cleared. Returns the builds reaped.
WITH expired AS (
  SELECT j.id, j.build_id, j.workspace_id
  FROM build_jobs j JOIN workspace_builds b ON b.id = j.build_id
  WHERE j.locked_by IS NOT NULL AND j.lease_until < now() AND b.status = 'running'
  FOR UPDATE OF j SKIP LOCKED
), gone AS (
  DELETE FROM build_jobs j USING expired WHERE j.id = expired.id
), lease AS (
  UPDATE workspaces w SET build_lease_by = NULL, build_lease_until = NULL
  FROM expired WHERE w.id = expired.workspace_id AND w.build_lease_until < now()
)
UPDATE workspace_builds b SET status = 'interrupted', error = 'its lease ran out before it finished: the process building it stopped, or lost its database connection for longer than the lease', finished_at = now()
FROM expired WHERE b.id = expired.build_id
RETURNING b.id
