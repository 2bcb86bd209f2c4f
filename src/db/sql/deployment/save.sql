-- Record ${config}, applied from commit ${commit_sha}.
INSERT INTO deployment (id, config, commit_sha) VALUES (1, ${config:json}, ${commit_sha})
ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config, commit_sha = EXCLUDED.commit_sha, updated_at = now()
