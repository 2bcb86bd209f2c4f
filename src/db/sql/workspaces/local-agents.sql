-- Started (or starting) workspaces whose template starts the agent on the runner's own machine: its
-- .tf files (stored base64) use coder_agent_command (the Terraform contract's variable for local-style templates).
-- `coder-git up` stops them when it stops, so no agent process outlives it.
SELECT u.username AS owner, w.name, b.status AS build_status
FROM workspaces w
JOIN users u ON u.id = w.owner_id
JOIN workspace_builds b ON b.id = w.latest_build_id
JOIN template_versions v ON v.id = b.template_version_id
WHERE w.deleted_at IS NULL
  AND b.transition = 'start' AND b.status IN ('pending', 'running', 'succeeded')
  AND EXISTS (SELECT 1 FROM jsonb_each_text(v.files) f
              WHERE f.key LIKE '%.tf' AND convert_from(decode(f.value, 'base64'), 'UTF8') LIKE '%coder_agent_command%')
ORDER BY 1, 2
