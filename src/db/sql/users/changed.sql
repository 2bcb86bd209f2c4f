-- Users were applied from git (suspended, removed, roles changed): every server replica forgets the
-- sessions and tokens it cached (delivered when the apply commits).
SELECT pg_notify('coder_git_auth', 'users')
