-- The count of each workspace's users, kept by the database itself in the transaction of every
-- change that adds or removes one, whatever wrote it: a create checks the workspace's room
-- without counting its users.
CREATE TRIGGER users_live_added AFTER INSERT ON users
WHEN NEW.deleted_at IS NULL
BEGIN
    UPDATE workspaces SET live_users = live_users + 1 WHERE id = NEW.workspace_id;
END;

CREATE TRIGGER users_live_deleted AFTER UPDATE OF deleted_at ON users
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE workspaces SET live_users = live_users - 1 WHERE id = NEW.workspace_id;
END;

CREATE TRIGGER users_live_restored AFTER UPDATE OF deleted_at ON users
WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL
BEGIN
    UPDATE workspaces SET live_users = live_users + 1 WHERE id = NEW.workspace_id;
END;

CREATE TRIGGER users_live_removed AFTER DELETE ON users
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE workspaces SET live_users = live_users - 1 WHERE id = OLD.workspace_id;
END;

-- Counted once the triggers count every later change (the migration holds the write lock).
UPDATE workspaces SET live_users = (
    SELECT COUNT(*) FROM users
    WHERE users.workspace_id = workspaces.id AND users.deleted_at IS NULL
);
