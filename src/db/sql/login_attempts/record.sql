-- Records an attempt for ${account_key} from ${ip} unless either already has its limit of failures
-- (unfinished attempts count) in the last ${window_s} seconds; the id, or nothing when refused.
-- Run under both keys' locks (lock.sql), so no parallel attempt can pass the same check.
INSERT INTO login_attempts (account_key, ip)
SELECT ${account_key}, ${ip}::inet
WHERE (SELECT count(*) FROM login_attempts WHERE account_key = ${account_key} AND NOT succeeded AND at > now() - make_interval(secs => ${window_s})) < ${max_account}
  AND (SELECT count(*) FROM login_attempts WHERE ip = ${ip}::inet AND NOT succeeded AND at > now() - make_interval(secs => ${window_s})) < ${max_ip}
RETURNING id
