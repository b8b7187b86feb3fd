DROP POLICY tenant_isolation ON provisioning_errors;
ALTER TABLE provisioning_errors DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON audit_events;
ALTER TABLE audit_events DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON users;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON scim_tokens;
ALTER TABLE scim_tokens DISABLE ROW LEVEL SECURITY;
