-- The attempt ${id} had the right password: it no longer counts against the limit.
UPDATE login_attempts SET succeeded = true WHERE id = ${id}
