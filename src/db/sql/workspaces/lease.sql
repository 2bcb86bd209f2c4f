-- Take workspace ${id}'s build lease for ${runner_id} (${lease_seconds}), only while build ${build_id}
-- is still its latest and nobody holds the lease: no build can start on it until it is released.
UPDATE workspaces SET build_lease_by = ${runner_id}, build_lease_until = now() + make_interval(secs => ${lease_seconds})
WHERE id = ${id} AND latest_build_id = ${build_id}
  AND (build_lease_until IS NULL OR build_lease_until < now())
  AND NOT EXISTS (SELECT 1 FROM build_jobs j WHERE j.workspace_id = ${id})
RETURNING id
