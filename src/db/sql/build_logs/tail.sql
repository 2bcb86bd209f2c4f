-- The last ${limit} log lines of build ${build_id}, oldest first (a failed build's cause).
SELECT id, at, stream, line FROM (
  SELECT id, at, stream, line FROM build_logs WHERE build_id = ${build_id} ORDER BY id DESC LIMIT ${limit}
) last ORDER BY id
