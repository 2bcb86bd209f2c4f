-- Each user's git SSH key (README: Git SSH keys): made when the user is applied, the private half
-- sealed with CODER_GIT_ENCRYPTION_KEYS (src/auth/secret-box.ts; key_id says which key). Kept
-- apart from users so that applying a user file never touches it; goes with the user's row.
CREATE TABLE user_git_ssh_keys (
  user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  public_key  text NOT NULL,
  private_key bytea NOT NULL,
  key_id      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
