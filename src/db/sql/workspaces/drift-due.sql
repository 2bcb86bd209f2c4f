-- Running workspaces whose drift was last checked (or that were last built) more than ${interval_ms}
-- ago, oldest first: their latest build, a succeeded start, is what the check plans against.
SELECT w.id, b.id AS build_id, b.reason AS build_reason, b.finished_at AS build_finished_at, w.drift_checked_at
FROM workspaces w
JOIN workspace_builds b ON b.id = w.latest_build_id
WHERE w.deleted_at IS NULL
  AND b.status = 'succeeded' AND b.transition = 'start'
  AND GREATEST(w.drift_checked_at, b.finished_at) < now() - make_interval(secs => ${interval_ms} / 1000.0)
ORDER BY GREATEST(w.drift_checked_at, b.finished_at)
LIMIT ${limit}
