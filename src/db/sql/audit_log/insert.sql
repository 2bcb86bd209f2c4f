-- Append one audit entry.
INSERT INTO audit_log (actor, action, target, details, sync_id, ip)
VALUES (${actor}, ${action}, ${target}, ${details:json}, ${sync_id}, ${ip})
