-- Users may sign in with GitHub (users/*.yaml login: github; README: Signing in with GitHub).
ALTER TABLE users DROP CONSTRAINT users_login_type_check;
ALTER TABLE users ADD CONSTRAINT users_login_type_check CHECK (login_type IN ('password', 'oidc', 'github', 'none'));
