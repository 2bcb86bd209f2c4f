-- Give back the lease ${runner_id} holds on workspace ${id} (if it still does).
UPDATE workspaces SET build_lease_by = NULL, build_lease_until = NULL WHERE id = ${id} AND build_lease_by = ${runner_id}
