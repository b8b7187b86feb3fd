DROP TABLE users;
DROP TABLE scim_tokens;
DROP TABLE workspaces;
