-- Workspace ${id} was destroyed by a delete build: it leaves the applied state now (not before, so a
-- failed destroy is retried rather than forgotten).
UPDATE workspaces SET deleted_at = now(), updated_at = now() WHERE id = ${id} AND deleted_at IS NULL
