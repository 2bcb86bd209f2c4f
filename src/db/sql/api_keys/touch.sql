-- Key ${id} was used now (skipped when another request recorded it in the last minute).
UPDATE api_keys SET last_used_at = now()
WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
