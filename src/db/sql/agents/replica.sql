-- The replica holding agent ${id}'s control socket (null: none, or one without an internal URL).
SELECT replica_url FROM agents WHERE id = ${id} AND disconnected_at IS NULL
