-- Move sync ${id} to ${status}; started_at and finished_at follow the status.
UPDATE syncs SET
  status = ${status},
  errors = COALESCE(${errors:json}::jsonb, errors),
  plan_summary = COALESCE(${plan_summary:json}::jsonb, plan_summary),
  plan = COALESCE(${plan:json}::jsonb, plan),
  started_at = CASE WHEN ${status} = 'applying' THEN now() ELSE started_at END,
  finished_at = CASE WHEN ${status} IN ('applied', 'failed', 'invalid', 'superseded') THEN now() ELSE finished_at END
WHERE id = ${id}
