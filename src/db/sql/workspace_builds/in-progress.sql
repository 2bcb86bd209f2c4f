-- Builds pending or running anywhere: a plan leaves their workspaces alone until they finish.
SELECT id FROM workspace_builds WHERE status IN ('pending', 'running')
