-- Record template versions from ${rows}: [{template, content_hash, commit_sha, manifest, files}] (a
-- version seen before is kept as it was) and make each its template's active version.
WITH input AS (
  SELECT t.id AS template_id, r.content_hash, r.commit_sha, r.manifest, r.files
  FROM jsonb_to_recordset(${rows:json}::jsonb)
    AS r(template text, content_hash text, commit_sha text, manifest jsonb, files jsonb)
  JOIN templates t ON t.name = r.template AND t.deleted_at IS NULL
), inserted AS (
  INSERT INTO template_versions (template_id, content_hash, commit_sha, manifest, files)
  SELECT template_id, content_hash, commit_sha, manifest, files FROM input
  ON CONFLICT (template_id, content_hash) DO NOTHING
  RETURNING id, template_id, content_hash
), versions AS (
  SELECT id, template_id FROM inserted
  UNION ALL
  SELECT v.id, v.template_id FROM template_versions v JOIN input i USING (template_id, content_hash)
)
UPDATE templates t SET active_version_id = versions.id, updated_at = now()
FROM versions WHERE t.id = versions.template_id
