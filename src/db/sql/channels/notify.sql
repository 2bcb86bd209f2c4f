-- Send ${payload} (JSON) on channel ${channel} (src/db/channels.ts); delivered when the transaction commits.
SELECT pg_notify(${channel}, ${payload:json}::text)
