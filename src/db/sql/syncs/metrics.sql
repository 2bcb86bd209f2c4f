-- Figures for the runner's /metrics: syncs by status, builds by status (with durations of finished
-- ones), the age of the newest applied commit, drifted workspaces and those whose agent is lost.
SELECT
  (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (SELECT status, count(*) AS n FROM syncs GROUP BY status) s) AS syncs,
  (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (SELECT status, count(*) AS n FROM workspace_builds GROUP BY status) b) AS builds,
  (SELECT coalesce(sum(extract(epoch FROM finished_at - started_at)), 0) FROM workspace_builds WHERE finished_at IS NOT NULL AND started_at IS NOT NULL) AS build_seconds_sum,
  (SELECT count(*) FROM workspace_builds WHERE finished_at IS NOT NULL AND started_at IS NOT NULL) AS build_seconds_count,
  (SELECT extract(epoch FROM now() - max(finished_at)) FROM syncs WHERE status = 'applied') AS last_applied_age,
  (SELECT count(*) FROM workspaces WHERE deleted_at IS NULL AND drift_detected_at IS NOT NULL) AS drifted,
  (SELECT count(*) FROM workspaces WHERE deleted_at IS NULL AND agent_lost_at IS NOT NULL) AS agent_lost
