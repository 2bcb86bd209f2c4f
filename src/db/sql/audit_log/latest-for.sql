-- The latest entry with action ${action} about ${target}, if any (to say a refusal once, not every tick).
SELECT id, at, actor, action, target, details FROM audit_log
WHERE action = ${action} AND target = ${target}
ORDER BY id DESC LIMIT 1
