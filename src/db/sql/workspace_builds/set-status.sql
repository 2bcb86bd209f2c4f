-- Move build ${id} to ${status}, only from one of ${from} (the statuses BUILD_TRANSITIONS allows
-- before it; no row when the build is elsewhere): started_at on running, finished_at on any end;
-- ${error} and ${runner_id} when given. A succeeded build made the workspace what its template says: any drift
-- recorded before is cleared.
WITH b AS (
  UPDATE workspace_builds SET
    status = ${status},
    error = COALESCE(${error}, error),
    runner_id = COALESCE(${runner_id}, runner_id),
    started_at = CASE WHEN ${status} = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
    finished_at = CASE WHEN ${status} IN ('succeeded', 'failed', 'canceled', 'interrupted') THEN now() ELSE finished_at END
  WHERE id = ${id} AND status = ANY(${from}::text[])
  RETURNING *
), drift AS (
  UPDATE workspaces SET drift = NULL, drift_detected_at = NULL, agent_lost_at = NULL
  FROM b WHERE workspaces.id = b.workspace_id AND b.status = 'succeeded' AND (workspaces.drift IS NOT NULL OR workspaces.agent_lost_at IS NOT NULL)
)
SELECT * FROM b
