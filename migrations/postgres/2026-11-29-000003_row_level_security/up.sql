-- Row-level security: every tenant table shows a session only the rows of the workspace its
-- transaction was opened for. The service sets app.workspace_id with set_config(…, true) at the
-- start of every tenant transaction, reads included; outside one, the setting is empty and no
-- tenant row is visible or writable. The service's role must neither own these tables nor have
-- BYPASSRLS (the owner, which runs migrations, is exempt unless FORCE is used).

ALTER TABLE scim_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scim_tokens
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

ALTER TABLE provisioning_errors ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON provisioning_errors
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
