-- What the schedule decides on, for every settled workspace that has a schedule (an autostart, a ttl,
-- or a template default_ttl); ${ids} (or NULL: all) narrows it, ${lock} takes the rows FOR UPDATE
-- (inside the transaction that creates the builds, so the decision is made on what it writes over).
SELECT w.id, u.username AS owner, w.name, w.template_version_id, w.parameters,
       w.schedule->>'autostart' AS autostart, w.schedule->>'ttl' AS ttl,
       v.manifest->'schedule'->>'default_ttl' AS default_ttl, v.manifest->'schedule'->>'max_ttl' AS max_ttl,
       b.transition AS build_transition, b.status AS build_status, b.created_at AS build_created_at,
       b.finished_at AS build_finished_at,
       (SELECT max(a.last_activity_at) FROM agents a WHERE a.build_id = b.id) AS last_activity_at
FROM workspaces w
JOIN users u ON u.id = w.owner_id
JOIN workspace_builds b ON b.id = w.latest_build_id
JOIN template_versions v ON v.id = w.template_version_id
WHERE w.deleted_at IS NULL
  AND b.status = 'succeeded' AND b.transition IN ('start', 'stop')
  AND (w.schedule ?| array['autostart', 'ttl'] OR v.manifest->'schedule' ? 'default_ttl')
  AND (${ids}::uuid[] IS NULL OR w.id = ANY(${ids}::uuid[]))
ORDER BY w.id
${lock:raw}
