-- A newer commit (${commit_sha}) is the tip now: syncs of other commits still applying were overtaken.
UPDATE syncs SET status = 'superseded', finished_at = now()
WHERE status = 'applying' AND commit_sha <> ${commit_sha}
