-- Workspaces whose last drift check found changes.
SELECT u.username AS owner, w.name, w.drift_detected_at, w.drift_checked_at, w.drift
FROM workspaces w JOIN users u ON u.id = w.owner_id
WHERE w.deleted_at IS NULL AND w.drift_detected_at IS NOT NULL
ORDER BY u.username, w.name
