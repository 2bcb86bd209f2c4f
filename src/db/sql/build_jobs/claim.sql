-- Take the oldest ready job for ${runner_id}, leased for ${lease_seconds}: a free job, or one whose
-- lease ran out (its runner died). The job and its workspace are locked FOR UPDATE SKIP LOCKED and
-- the workspace's own build lease is checked and set in the same statement: PostgreSQL re-checks a
-- locked row against its newest version, so two workers can never both build one workspace, and
-- they never wait on each other.
WITH c AS (
  SELECT j.id, j.workspace_id
  FROM build_jobs j
  JOIN workspaces w ON w.id = j.workspace_id
  WHERE j.run_after <= now()
    AND (j.locked_by IS NULL OR j.lease_until < now())
    AND (w.build_lease_until IS NULL OR w.build_lease_until < now())
  ORDER BY j.id
  FOR UPDATE OF j, w SKIP LOCKED
  LIMIT 1
), lease AS (
  UPDATE workspaces w SET build_lease_by = ${runner_id}, build_lease_until = now() + make_interval(secs => ${lease_seconds})
  FROM c WHERE w.id = c.workspace_id
)
UPDATE build_jobs j SET locked_by = ${runner_id}, lease_until = now() + make_interval(secs => ${lease_seconds}), attempts = j.attempts + 1
FROM c WHERE j.id = c.id
RETURNING j.id, j.build_id, j.workspace_id, j.attempts, j.lease_until
