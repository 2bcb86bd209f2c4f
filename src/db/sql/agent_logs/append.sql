-- Startup log lines ${lines} ([{stream, line}]) of agent ${agent_id}, as far as ${cap} bytes per agent
-- allow; the rest is dropped and the agent marked overflowed. Returns what was kept. A line costs its
-- bytes plus ${row_cost} (what a row and its index entry take), so 50,000 empty lines are not free.
WITH a AS (
  SELECT id, log_bytes FROM agents WHERE id = ${agent_id} FOR UPDATE
), l AS (
  SELECT r.stream, r.line, ord, sum(octet_length(r.line) + ${row_cost}) OVER (ORDER BY ord) AS upto
  FROM ROWS FROM (jsonb_to_recordset(${lines:json}::jsonb) AS (stream text, line text)) WITH ORDINALITY AS r(stream, line, ord)
), kept AS (
  INSERT INTO agent_logs (agent_id, stream, line)
  SELECT a.id, l.stream, l.line FROM a, l WHERE a.log_bytes + l.upto <= ${cap} ORDER BY l.ord
  RETURNING octet_length(line) + ${row_cost} AS n
), total AS (SELECT count(*)::int AS lines, coalesce(sum(n), 0)::int AS bytes FROM kept)
UPDATE agents SET log_bytes = agents.log_bytes + total.bytes,
  log_overflowed = agents.log_overflowed OR total.lines < (SELECT count(*) FROM l)
FROM total WHERE agents.id = ${agent_id}
RETURNING total.lines AS kept, agents.log_overflowed
