DROP INDEX group_members_user;
CREATE INDEX group_members_user ON group_members (workspace_id, user_id);
