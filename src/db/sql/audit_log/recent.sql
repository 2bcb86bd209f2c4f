-- The ${limit} most recent audit entries before id ${before} (null: from the newest).
SELECT id, at, actor, action, target, details, sync_id, host(ip) AS ip
FROM audit_log
WHERE ${before}::bigint IS NULL OR id < ${before}
ORDER BY id DESC LIMIT ${limit}
