-- Soft-delete the templates named in ${names}.
UPDATE templates SET deleted_at = now(), updated_at = now()
WHERE name = ANY(${names}::text[]) AND deleted_at IS NULL
