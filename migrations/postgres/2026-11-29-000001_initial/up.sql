-- Workspaces, SCIM API tokens and users. Every tenant table leads its primary key and unique
-- indexes with workspace_id, so that the schema can be distributed by workspace as it is.
-- Ids are UUIDs in text form and times UTC timestamps with microseconds, the types both
-- backends share.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'premium', 'enterprise')),
    sso_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE scim_tokens (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, prefix)
);

CREATE TABLE users (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    -- userName after NFC and Unicode case folding, computed by the service
    user_name_key TEXT NOT NULL,
    external_id   TEXT,
    active        BOOLEAN NOT NULL,
    display_name  TEXT,
    -- argon2id PHC string; never returned
    password_hash TEXT,
    -- the SCIM document (core and extensions) as JSON
    document      TEXT NOT NULL,
    version       BIGINT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    -- set by DELETE: the row stays as a tombstone for the audit trail
    deleted_at    TIMESTAMP,
    PRIMARY KEY (workspace_id, id)
);

CREATE UNIQUE INDEX users_user_name_key ON users (workspace_id, user_name_key)
    WHERE deleted_at IS NULL;
CREATE INDEX users_external_id ON users (workspace_id, external_id)
    WHERE deleted_at IS NULL;
