-- Figures for the runner's /metrics: syncs by status, builds by status, the run times of finished
-- builds as a histogram ($1: the bucket bounds in seconds, ascending; a count per bound, cumulative),
-- the age of the newest applied commit, drifted workspaces and those whose agent is lost.
WITH finished AS (
  SELECT extract(epoch FROM finished_at - started_at)::float8 AS d
  FROM workspace_builds WHERE finished_at IS NOT NULL AND started_at IS NOT NULL
)
SELECT
  (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (SELECT status, count(*) AS n FROM syncs GROUP BY status) s) AS syncs,
  (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (SELECT status, count(*) AS n FROM workspace_builds GROUP BY status) b) AS builds,
  (SELECT coalesce(sum(d), 0) FROM finished) AS build_seconds_sum,
  (SELECT count(*) FROM finished) AS build_seconds_count,
  (SELECT array_agg(n ORDER BY le) FROM (SELECT le, (SELECT count(*) FROM finished WHERE d <= le) AS n FROM unnest($1::float8[]) le) x) AS build_seconds_buckets,
  (SELECT extract(epoch FROM now() - max(finished_at)) FROM syncs WHERE status = 'applied') AS last_applied_age,
  (SELECT count(*) FROM workspaces WHERE deleted_at IS NULL AND drift_detected_at IS NOT NULL) AS drifted,
  (SELECT count(*) FROM workspaces WHERE deleted_at IS NULL AND agent_lost_at IS NOT NULL) AS agent_lost
