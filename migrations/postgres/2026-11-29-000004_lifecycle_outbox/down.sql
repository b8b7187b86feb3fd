DROP TABLE outbox_events;
ALTER TABLE workspaces DROP COLUMN sso_enforced;
DROP INDEX users_email_key;
ALTER TABLE users DROP COLUMN email_key;
ALTER TABLE users DROP COLUMN session_version;
ALTER TABLE users DROP COLUMN app_roles;
