-- Record template versions from ${rows}: [{template, content_hash, commit_sha, manifest, files}] and
-- make each its template's active version. A version seen before keeps its files and commit; its
-- manifest (template.yaml: display fields, limits, not part of the hash) is brought up to date.
WITH input AS (
  SELECT t.id AS template_id, r.content_hash, r.commit_sha, r.manifest, r.files
  FROM jsonb_to_recordset(${rows:json}::jsonb)
    AS r(template text, content_hash text, commit_sha text, manifest jsonb, files jsonb)
  JOIN templates t ON t.name = r.template AND t.deleted_at IS NULL
), versions AS (
  INSERT INTO template_versions (template_id, content_hash, commit_sha, manifest, files)
  SELECT template_id, content_hash, commit_sha, manifest, files FROM input
  ON CONFLICT (template_id, content_hash) DO UPDATE SET manifest = EXCLUDED.manifest
  RETURNING id, template_id
)
UPDATE templates t SET active_version_id = versions.id, updated_at = now()
FROM versions WHERE t.id = versions.template_id
