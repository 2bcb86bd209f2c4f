-- The module files of template version ${id} (path → base64).
SELECT files FROM template_versions WHERE id = ${id}
