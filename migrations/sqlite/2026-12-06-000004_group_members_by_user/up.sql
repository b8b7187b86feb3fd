-- A user's groups are found through this index only if it covers the group ids too: with
-- (workspace_id, user_id) alone, SQLite preferred the primary key's covering index on its
-- workspace prefix and read every member row of the workspace to find one user's groups.
DROP INDEX group_members_user;
CREATE INDEX group_members_user ON group_members (workspace_id, user_id, group_id);
