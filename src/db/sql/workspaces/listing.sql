-- Workspaces for people (pages, API, status): each with its latest build and that build's newest
-- agent, and the template version's agent settings; only ${owner}'s when given.
SELECT w.id, w.agent_lost_at, u.username AS owner, w.name, t.name AS template, w.desired_state, w.scheduled_state,
       b.id AS build_id, b.build_number, b.transition, b.status AS build_status, b.reason AS build_reason,
       b.created_at AS build_created_at, b.finished_at AS build_finished_at, b.error AS build_error,
       a.id AS agent_id, a.lifecycle, a.created_at AS agent_created_at, a.first_connected_at,
       a.last_connected_at, a.disconnected_at, a.last_heartbeat_at, a.version AS agent_version,
       v.manifest->'agent'->>'connection_timeout' AS connection_timeout, w.drift_detected_at
FROM workspaces w
JOIN users u ON u.id = w.owner_id
JOIN templates t ON t.id = w.template_id
LEFT JOIN workspace_builds b ON b.id = w.latest_build_id
LEFT JOIN template_versions v ON v.id = b.template_version_id
LEFT JOIN LATERAL (SELECT * FROM agents ag WHERE ag.build_id = b.id ORDER BY ag.created_at DESC LIMIT 1) a ON true
WHERE w.deleted_at IS NULL AND (${owner}::text IS NULL OR u.username = ${owner})
ORDER BY u.username, w.name
