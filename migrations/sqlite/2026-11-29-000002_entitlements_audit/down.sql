DROP TABLE provisioning_errors;
DROP TABLE audit_events;
ALTER TABLE workspaces DROP COLUMN deleted_at;
ALTER TABLE workspaces DROP COLUMN idp_issuer;
ALTER TABLE workspaces DROP COLUMN overrides_expire_at;
ALTER TABLE workspaces DROP COLUMN overrides;
ALTER TABLE workspaces DROP COLUMN seats;
