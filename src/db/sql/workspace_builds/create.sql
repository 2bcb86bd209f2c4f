-- A new build of a workspace, numbered after its last one, made the workspace's latest build and
-- queued as a job, in one statement (so a build without a job, or two builds with one number, cannot
-- happen). Returns the build.
WITH w AS (
  SELECT id FROM workspaces WHERE id = ${workspace_id} FOR UPDATE
), build AS (
  INSERT INTO workspace_builds (workspace_id, build_number, transition, status, reason, template_version_id, parameters, sync_id)
  SELECT w.id, COALESCE((SELECT max(build_number) FROM workspace_builds WHERE workspace_id = w.id), 0) + 1,
         ${transition}, 'pending', ${reason}, ${template_version_id}, ${parameters:json}, ${sync_id}
  FROM w
  RETURNING *
), latest AS (
  UPDATE workspaces SET latest_build_id = build.id, updated_at = now() FROM build WHERE workspaces.id = build.workspace_id
), job AS (
  INSERT INTO build_jobs (build_id, workspace_id) SELECT id, workspace_id FROM build
)
SELECT * FROM build
