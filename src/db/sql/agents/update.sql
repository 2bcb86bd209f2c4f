-- Record what agent ${id} reported: lifecycle, connection events, heartbeats and activity (null: unchanged).
UPDATE agents SET
  lifecycle = COALESCE(${lifecycle}, lifecycle),
  version = COALESCE(${version}, version),
  os = COALESCE(${os}, os),
  arch = COALESCE(${arch}, arch),
  first_connected_at = CASE WHEN ${connected} THEN COALESCE(first_connected_at, now()) ELSE first_connected_at END,
  last_connected_at = CASE WHEN ${connected} THEN now() ELSE last_connected_at END,
  disconnected_at = CASE WHEN ${connected} THEN NULL WHEN ${disconnected} THEN now() ELSE disconnected_at END,
  last_heartbeat_at = CASE WHEN ${heartbeat} OR ${connected} THEN now() ELSE last_heartbeat_at END,
  last_activity_at = CASE WHEN ${activity} THEN now() ELSE last_activity_at END
WHERE id = ${id}
RETURNING id, lifecycle, first_connected_at, last_connected_at, disconnected_at, last_heartbeat_at
