-- How many of the given builds are still pending or running (apply waits for none).
SELECT count(*)::int AS n FROM workspace_builds WHERE id = ANY(${ids}::uuid[]) AND status IN ('pending', 'running')
