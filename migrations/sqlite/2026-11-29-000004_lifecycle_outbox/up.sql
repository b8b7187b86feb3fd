-- What WebWork's app needs of a user: its roles in WebWork, a session version that changes
-- whenever its sessions must end, and its primary email for look-ups. Workspaces may enforce SSO.
ALTER TABLE users ADD COLUMN app_roles TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN session_version BIGINT NOT NULL DEFAULT 1;
-- the primary email after NFC and case folding, computed by the service
ALTER TABLE users ADD COLUMN email_key TEXT;
CREATE INDEX users_email_key ON users (workspace_id, email_key) WHERE deleted_at IS NULL;
ALTER TABLE workspaces ADD COLUMN sso_enforced BOOLEAN NOT NULL DEFAULT 0;

-- Lifecycle events, written in the transaction of the change and delivered to WebWork's app by
-- the delivery worker: at least once, in order per user, with backoff and a dead-letter state.
CREATE TABLE outbox_events (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    -- the user (or group) the event is about; events of one aggregate are delivered in order
    aggregate_id    TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- a replica delivering the event holds it until then
    locked_until    TIMESTAMP,
    delivered_at    TIMESTAMP,
    dead_at         TIMESTAMP,
    last_error      TEXT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX outbox_pending ON outbox_events (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_aggregate ON outbox_events (workspace_id, aggregate_id, id)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
