-- The schedule put workspace ${id} in ${state}: it stands until a commit changes `state:`.
UPDATE workspaces SET scheduled_state = ${state}, updated_at = now() WHERE id = ${id}
