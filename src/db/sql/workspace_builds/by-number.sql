-- Build ${number} of workspace ${owner}/${name} (a current workspace), with its newest agent.
SELECT b.id, b.build_number, b.transition, b.status, b.reason, b.error, b.created_at, b.started_at, b.finished_at,
       (SELECT a.id FROM agents a WHERE a.build_id = b.id ORDER BY a.created_at DESC LIMIT 1) AS agent_id
FROM workspace_builds b
JOIN workspaces w ON w.id = b.workspace_id AND w.deleted_at IS NULL
JOIN users u ON u.id = w.owner_id
WHERE u.username = ${owner} AND w.name = ${name}
  AND b.build_number = COALESCE(${number}::int, (SELECT lb.build_number FROM workspace_builds lb WHERE lb.id = w.latest_build_id))
