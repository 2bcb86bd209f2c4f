SELECT id, status FROM workspace_builds WHERE id = ANY(${ids}::uuid[])
