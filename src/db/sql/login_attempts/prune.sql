-- Attempts older than a day are of no use to the limit.
DELETE FROM login_attempts WHERE at < now() - interval '1 day'
