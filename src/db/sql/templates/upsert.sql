-- Create or update templates from ${rows}: [{name, display_name, description, icon}].
INSERT INTO templates (name, display_name, description, icon)
SELECT r.name, r.display_name, r.description, r.icon
FROM jsonb_to_recordset(${rows:json}::jsonb) AS r(name text, display_name text, description text, icon text)
ON CONFLICT (name) WHERE deleted_at IS NULL DO UPDATE SET
  display_name = EXCLUDED.display_name,
  description = EXCLUDED.description,
  icon = EXCLUDED.icon,
  updated_at = now()
