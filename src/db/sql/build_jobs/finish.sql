-- Job ${id} is done (whatever the build's outcome): remove it and free its workspace, if
-- ${runner_id} still holds them.
WITH j AS (
  DELETE FROM build_jobs WHERE id = ${id} AND locked_by = ${runner_id}
  RETURNING id, workspace_id
), w AS (
  UPDATE workspaces SET build_lease_by = NULL, build_lease_until = NULL FROM j
  WHERE workspaces.id = j.workspace_id AND workspaces.build_lease_by = ${runner_id}
)
SELECT id FROM j
