-- Workspace ${id}'s agent is ${lost} (true: gone; false: back). The time it was first found gone is
-- kept while it lasts; `newly` says this call is the one that found it.
UPDATE workspaces w SET agent_lost_at = CASE WHEN ${lost} THEN COALESCE(old.was, now()) ELSE NULL END
FROM (SELECT id, agent_lost_at AS was FROM workspaces WHERE id = ${id}) old
WHERE w.id = old.id
RETURNING (${lost} AND old.was IS NULL) AS newly
