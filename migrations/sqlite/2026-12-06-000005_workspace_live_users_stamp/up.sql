-- A value drawn at random again at every change to each workspace's set of live users (a user
-- added, deleted, restored or removed), by the same triggers that keep the count: a listing that
-- remembers where its pages start in the id order knows, by reading it in its own snapshot,
-- whether that is still true. Random rather than counted, so that a database taken back in time
-- (a restore, a failover to a standby that lagged) cannot repeat a value with other users
-- behind it.
ALTER TABLE workspaces ADD COLUMN live_users_stamp BIGINT NOT NULL DEFAULT 0;
-- The users already there get a value of their own too (a new workspace starts empty at 0).
UPDATE workspaces SET live_users_stamp = random();

DROP TRIGGER users_live_added;
DROP TRIGGER users_live_deleted;
DROP TRIGGER users_live_restored;
DROP TRIGGER users_live_removed;

CREATE TRIGGER users_live_added AFTER INSERT ON users
WHEN NEW.deleted_at IS NULL
BEGIN
    UPDATE workspaces SET live_users = live_users + 1, live_users_stamp = random()
    WHERE id = NEW.workspace_id;
END;

CREATE TRIGGER users_live_deleted AFTER UPDATE OF deleted_at ON users
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE workspaces SET live_users = live_users - 1, live_users_stamp = random()
    WHERE id = NEW.workspace_id;
END;

CREATE TRIGGER users_live_restored AFTER UPDATE OF deleted_at ON users
WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL
BEGIN
    UPDATE workspaces SET live_users = live_users + 1, live_users_stamp = random()
    WHERE id = NEW.workspace_id;
END;

CREATE TRIGGER users_live_removed AFTER DELETE ON users
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE workspaces SET live_users = live_users - 1, live_users_stamp = random()
    WHERE id = OLD.workspace_id;
END;
