-- Create or update workspaces from ${rows}: [{owner, name, template, parameters, desired_state, schedule, ports, cost}].
-- The owner and template are looked up by name; the template's active version is the one asked for.
INSERT INTO workspaces (owner_id, name, template_id, template_version_id, parameters, desired_state, schedule, ports, cost)
SELECT u.id, r.name, t.id, t.active_version_id, r.parameters, r.desired_state, r.schedule, COALESCE(r.ports, '[]'), COALESCE(r.cost, 0)
FROM jsonb_to_recordset(${rows:json}::jsonb)
  AS r(owner text, name text, template text, parameters jsonb, desired_state text, schedule jsonb, ports jsonb, cost numeric)
JOIN users u ON u.username = r.owner AND u.deleted_at IS NULL
JOIN templates t ON t.name = r.template AND t.deleted_at IS NULL
ON CONFLICT (owner_id, name) WHERE deleted_at IS NULL DO UPDATE SET
  template_id = EXCLUDED.template_id,
  template_version_id = EXCLUDED.template_version_id,
  parameters = EXCLUDED.parameters,
  desired_state = EXCLUDED.desired_state,
  -- a commit that changes `state:` takes over from the schedule
  scheduled_state = CASE WHEN workspaces.desired_state = EXCLUDED.desired_state THEN workspaces.scheduled_state END,
  schedule = EXCLUDED.schedule,
  ports = EXCLUDED.ports,
  cost = EXCLUDED.cost,
  updated_at = now()
