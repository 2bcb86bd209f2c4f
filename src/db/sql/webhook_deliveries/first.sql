-- Records delivery ${id}; a row back when this is its first time, nothing when it was seen before.
-- Deliveries older than a day are forgotten now and then (${prune}).
WITH pruned AS (DELETE FROM webhook_deliveries WHERE ${prune} AND at < now() - interval '1 day')
INSERT INTO webhook_deliveries (id) VALUES (${id}) ON CONFLICT (id) DO NOTHING RETURNING id
