-- What agent ${id} is told when it says hello: its workspace and the startup script of its build's
-- template version, the environment (agent.env) for that script and every session, and its
-- owner's shell and dotfiles (README: Per-user defaults), and whether the owner has a git SSH key.
SELECT u.username AS owner, w.name AS workspace, v.manifest->'agent'->>'startup_script' AS startup_script,
       coalesce(v.manifest->'agent'->'env', '{}'::jsonb) AS env,
       u.defaults->>'shell' AS shell, u.defaults->'dotfiles' AS dotfiles,
       EXISTS (SELECT 1 FROM user_git_ssh_keys k WHERE k.user_id = u.id) AS git_ssh_key
FROM agents a
JOIN workspaces w ON w.id = a.workspace_id
JOIN users u ON u.id = w.owner_id
JOIN workspace_builds b ON b.id = a.build_id
JOIN template_versions v ON v.id = b.template_version_id
WHERE a.id = ${id}
