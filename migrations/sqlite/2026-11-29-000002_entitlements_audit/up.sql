-- Seats bought, per-workspace entitlement overrides with an expiry, the IdP issuer shown on the
-- SSO settings page, and soft deletion with a purge after a grace period.
ALTER TABLE workspaces ADD COLUMN seats INTEGER;
ALTER TABLE workspaces ADD COLUMN overrides TEXT;
ALTER TABLE workspaces ADD COLUMN overrides_expire_at TIMESTAMP;
ALTER TABLE workspaces ADD COLUMN idp_issuer TEXT;
ALTER TABLE workspaces ADD COLUMN deleted_at TIMESTAMP;

-- Every change made over SCIM or the admin API, written in the same transaction as the change.
CREATE TABLE audit_events (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    -- "token:<id>", "jwt:<subject>" or "cli"
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_id    TEXT,
    -- JSON array of the names of the attributes that changed; never values
    attributes   TEXT NOT NULL DEFAULT '[]',
    request_id   TEXT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX audit_events_at ON audit_events (workspace_id, at);

-- Failed provisioning requests, recorded best-effort outside the failed transaction.
CREATE TABLE provisioning_errors (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,
    method       TEXT NOT NULL,
    route        TEXT NOT NULL,
    status       INTEGER NOT NULL,
    scim_type    TEXT,
    detail       TEXT NOT NULL,
    request_id   TEXT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX provisioning_errors_at ON provisioning_errors (workspace_id, at);
