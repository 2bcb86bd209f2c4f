-- coder-git.yaml as last applied (no row: never applied).
SELECT config, commit_sha, updated_at FROM deployment WHERE id = 1
