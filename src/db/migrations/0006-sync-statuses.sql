-- A sync is invalid, applying, applied, failed or superseded; 'planned' was allowed from the start
-- but nothing ever set it (a plan records nothing). Rows with it cannot exist; any that did become
-- failed, so the new check holds.
UPDATE syncs SET status = 'failed' WHERE status = 'planned';
ALTER TABLE syncs DROP CONSTRAINT syncs_status_check;
ALTER TABLE syncs ADD CONSTRAINT syncs_status_check CHECK (status IN ('invalid', 'applying', 'applied', 'failed', 'superseded'));
