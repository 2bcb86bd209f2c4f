-- The pages: a sync keeps the whole plan it applied (users, templates, workspaces and why each
-- builds), so its page shows what a pull request's comment showed.
ALTER TABLE syncs ADD COLUMN plan jsonb;
