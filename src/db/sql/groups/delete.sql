-- Groups ${names} were removed from git.
DELETE FROM groups WHERE name = ANY(${names})
