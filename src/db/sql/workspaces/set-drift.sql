-- Record a drift check of workspace ${id}: ${drift} (null when the plan showed nothing). The time
-- drift was first seen is kept while it lasts; `newly` says this check is the one that found it
-- (old.was is read from the statement's snapshot: the value before this update).
UPDATE workspaces w SET
  drift_checked_at = now(),
  drift = ${drift:json},
  drift_detected_at = CASE WHEN ${drift:json} IS NULL THEN NULL ELSE COALESCE(old.was, now()) END
FROM (SELECT id, drift_detected_at AS was FROM workspaces WHERE id = ${id}) old
WHERE w.id = old.id
RETURNING (${drift:json} IS NOT NULL AND old.was IS NULL) AS newly
