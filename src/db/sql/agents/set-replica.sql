-- The replica (its internal URL) that holds agent ${id}'s control socket, or null when it leaves;
-- leaving clears it only if no other replica took the agent meanwhile, and no newer connection of it
-- (${connection} is the leaving one) came since.
UPDATE agents SET replica_url = ${url}
WHERE id = ${id} AND (${url} IS NOT NULL OR (replica_url = ${previous} AND connection_id IS NOT DISTINCT FROM ${connection}::uuid))
