-- Record what agent ${id} reported over its connection ${connection}: lifecycle, connection events,
-- heartbeats and activity (null: unchanged). A connection makes itself the agent's current one; only
-- the current one's end marks the agent disconnected (a stale socket of the same agent, dropped
-- late, changes nothing). current says whether ${connection} is the current one.
UPDATE agents SET
  lifecycle = COALESCE(${lifecycle}, lifecycle),
  version = COALESCE(${version}, version),
  os = COALESCE(${os}, os),
  arch = COALESCE(${arch}, arch),
  first_connected_at = CASE WHEN ${connected} THEN COALESCE(first_connected_at, now()) ELSE first_connected_at END,
  last_connected_at = CASE WHEN ${connected} THEN now() ELSE last_connected_at END,
  disconnected_at = CASE WHEN ${connected} THEN NULL WHEN ${disconnected} AND connection_id IS NOT DISTINCT FROM ${connection}::uuid THEN now() ELSE disconnected_at END,
  connection_id = CASE WHEN ${connected} THEN ${connection}::uuid ELSE connection_id END,
  last_heartbeat_at = CASE WHEN ${heartbeat} OR ${connected} THEN now() ELSE last_heartbeat_at END,
  last_activity_at = CASE WHEN ${activity} THEN now() ELSE last_activity_at END
WHERE id = ${id}
RETURNING id, (connection_id IS NOT DISTINCT FROM ${connection}::uuid) AS current, lifecycle, first_connected_at, last_connected_at, disconnected_at, last_heartbeat_at
