-- Where the apps and ports of workspace ${owner}/${name} are: the agent of its latest build, the apps
-- and max_port_share of the template version that build ran (what is actually there), and its
-- shared ports as applied; and the ports its agent saw listening.
SELECT (SELECT a.id FROM agents a WHERE a.build_id = b.id ORDER BY a.created_at DESC LIMIT 1) AS agent_id,
       b.transition,
       v.manifest->'apps' AS apps,
       v.manifest->>'max_port_share' AS max_share,
       w.ports,
       (SELECT a.listening_ports FROM agents a WHERE a.build_id = b.id ORDER BY a.created_at DESC LIMIT 1) AS listening
FROM workspaces w
JOIN users u ON u.id = w.owner_id
LEFT JOIN workspace_builds b ON b.id = w.latest_build_id
LEFT JOIN template_versions v ON v.id = b.template_version_id
WHERE u.username = ${owner} AND w.name = ${name} AND w.deleted_at IS NULL
