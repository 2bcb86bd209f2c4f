-- Syncs still applying whose builds have all finished and not all succeeded become failed (the runner
-- tries the builds again later, and marks the sync applied once a plan finds nothing left to do).
-- Returns the syncs settled.
WITH done AS (
  SELECT s.id
  FROM syncs s JOIN workspace_builds b ON b.sync_id = s.id
  WHERE s.status = 'applying'
  GROUP BY s.id
  HAVING NOT bool_or(b.status IN ('pending', 'running')) AND NOT bool_and(b.status = 'succeeded')
)
UPDATE syncs s SET status = 'failed', finished_at = now(), errors = '[{"message": "some builds did not succeed"}]'::jsonb
FROM done WHERE s.id = done.id
RETURNING s.id, s.status, s.commit_sha, s.ref, s.author, s.message
