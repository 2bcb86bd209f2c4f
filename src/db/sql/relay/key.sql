-- The key every replica signs internal relay requests with: made by the first replica that asks.
WITH made AS (
  INSERT INTO relay_key (id, key) VALUES (1, ${key}) ON CONFLICT (id) DO NOTHING RETURNING key
)
SELECT key FROM made UNION ALL SELECT key FROM relay_key WHERE id = 1 LIMIT 1
