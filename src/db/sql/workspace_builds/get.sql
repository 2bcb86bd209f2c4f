SELECT * FROM workspace_builds WHERE id = ${id}
