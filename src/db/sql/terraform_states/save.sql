-- Record a Terraform state of workspace ${workspace_id} (written during build ${build_id}).
INSERT INTO terraform_states (workspace_id, build_id, serial, lineage, state)
VALUES (${workspace_id}, ${build_id}, ${serial}, ${lineage}, ${state})
RETURNING id
