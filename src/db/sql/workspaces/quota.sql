-- What starting workspace ${id} would do to its owner's quota (README: Quotas): their running limit
-- and budget now (effective_quota: their own, else their groups', declared or by claim), this
-- workspace's cost, and their other workspaces that run or are starting (latest build a start that
-- has not failed), with what those cost.
SELECT u.username,
       effective_quota(u.id, 'running')::float8 AS running_limit,
       effective_quota(u.id, 'budget')::float8 AS budget,
       w.cost::float8 AS cost,
       coalesce(array_agg(o.name ORDER BY o.name) FILTER (WHERE o.id IS NOT NULL), '{}') AS running,
       coalesce(sum(o.cost), 0)::float8 AS spent
FROM workspaces w
JOIN users u ON u.id = w.owner_id
LEFT JOIN workspaces o ON o.owner_id = u.id AND o.id <> w.id AND o.deleted_at IS NULL
  AND EXISTS (SELECT 1 FROM workspace_builds b WHERE b.id = o.latest_build_id AND b.transition = 'start' AND b.status IN ('pending', 'running', 'succeeded'))
WHERE w.id = ${id}
GROUP BY u.username, u.id, w.cost
