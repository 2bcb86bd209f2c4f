-- Append log lines ${rows}: [{stream, line}] to build ${build_id}, in order.
INSERT INTO build_logs (build_id, stream, line)
SELECT ${build_id}, e.value->>'stream', e.value->>'line'
FROM jsonb_array_elements(${rows:json}::jsonb) WITH ORDINALITY AS e(value, n)
ORDER BY e.n
