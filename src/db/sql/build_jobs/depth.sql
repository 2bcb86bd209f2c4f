-- Jobs waiting and jobs leased.
SELECT count(*) FILTER (WHERE locked_by IS NULL OR lease_until < now())::int AS waiting,
       count(*) FILTER (WHERE locked_by IS NOT NULL AND lease_until >= now())::int AS leased
FROM build_jobs
