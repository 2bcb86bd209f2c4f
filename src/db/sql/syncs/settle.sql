-- Syncs still applying whose builds have all finished: applied when every build succeeded, failed
-- otherwise. Returns the syncs settled.
WITH done AS (
  SELECT s.id, bool_and(b.status = 'succeeded') AS ok
  FROM syncs s JOIN workspace_builds b ON b.sync_id = s.id
  WHERE s.status = 'applying'
  GROUP BY s.id
  HAVING NOT bool_or(b.status IN ('pending', 'running'))
)
UPDATE syncs s SET status = CASE WHEN done.ok THEN 'applied' ELSE 'failed' END, finished_at = now(),
  errors = CASE WHEN done.ok THEN s.errors ELSE '[{"message": "some builds did not succeed"}]'::jsonb END
FROM done WHERE s.id = done.id
RETURNING s.id, s.status
