-- Failed logins in the last ${window_s} seconds from address ${ip} and for user ${username}.
SELECT count(*) FILTER (WHERE ip = ${ip}::inet)::int AS by_ip,
       count(*) FILTER (WHERE lower(target) = lower(${username}))::int AS by_user
FROM audit_log
WHERE action = 'login_failed' AND at > now() - make_interval(secs => ${window_s})
