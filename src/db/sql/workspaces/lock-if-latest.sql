-- Lock workspace ${id} if build ${build_id} is still its latest (nothing was queued since).
SELECT id FROM workspaces WHERE id = ${id} AND latest_build_id = ${build_id} FOR UPDATE
