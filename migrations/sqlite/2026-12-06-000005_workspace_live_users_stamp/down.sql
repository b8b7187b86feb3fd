DROP TRIGGER users_live_added;
DROP TRIGGER users_live_deleted;
DROP TRIGGER users_live_restored;
DROP TRIGGER users_live_removed;

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

ALTER TABLE workspaces DROP COLUMN live_users_stamp;
