-- SCIM groups and their members. Members are rows of their own, so that a membership change
-- touches only the rows it names and two concurrent changes cannot lose each other's members.
CREATE TABLE groups (
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    -- displayName after NFC and Unicode case folding, computed by the service
    display_name_key TEXT NOT NULL,
    external_id      TEXT,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX groups_display_name_key ON groups (workspace_id, display_name_key);
CREATE INDEX groups_external_id ON groups (workspace_id, external_id);

CREATE TABLE group_members (
    workspace_id TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, group_id, user_id),
    FOREIGN KEY (workspace_id, group_id) REFERENCES groups (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
-- a user's groups, and removing a deleted user from every group
CREATE INDEX group_members_user ON group_members (workspace_id, user_id);
