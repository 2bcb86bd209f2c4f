-- Log lines of build ${build_id} after line id ${after} (0: from the start), oldest first.
SELECT id, at, stream, line FROM build_logs
WHERE build_id = ${build_id} AND id > ${after}
ORDER BY id LIMIT ${limit}
