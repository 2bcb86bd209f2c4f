-- Keep job ${id} (and its workspace) leased by ${runner_id} for ${lease_seconds} more; no row if the
-- lease was lost (then the runner must stop: another may already have the workspace).
WITH j AS (
  UPDATE build_jobs SET lease_until = now() + make_interval(secs => ${lease_seconds})
  WHERE id = ${id} AND locked_by = ${runner_id} AND lease_until >= now()
  RETURNING workspace_id, lease_until
), w AS (
  UPDATE workspaces SET build_lease_until = j.lease_until FROM j
  WHERE workspaces.id = j.workspace_id AND workspaces.build_lease_by = ${runner_id}
)
SELECT lease_until FROM j
