-- The pages, apps and shared ports. A sync keeps the whole plan it applied (users, templates, workspaces and why each
-- builds), so its page shows what a pull request's comment showed.
ALTER TABLE syncs ADD COLUMN plan jsonb;

-- Apps and shared ports: a workspace's shared ports as its file declares them ([{port, share}]),
-- and the TCP ports its agent last saw listening inside it ([{port, address}]).
ALTER TABLE workspaces ADD COLUMN ports jsonb NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN listening_ports jsonb;
