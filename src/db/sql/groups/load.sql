-- Every group as applied.
SELECT name, display_name, members, roles, oidc_group, quota FROM groups ORDER BY name
