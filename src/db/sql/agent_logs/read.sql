-- Startup log lines of agent ${agent_id} after line id ${after}, oldest first.
SELECT id, at, stream, line FROM agent_logs WHERE agent_id = ${agent_id} AND id > ${after} ORDER BY id LIMIT ${limit}
