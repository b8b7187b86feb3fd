-- The count of each workspace's users, kept by the database itself in the transaction of every
-- change that adds or removes one, whatever wrote it (a replica of the previous release during
-- a rollout included): a create checks the workspace's room without counting its users.
SET LOCAL lock_timeout = '5s';

-- Inserts and deletes count per statement: a bulk load of 10,000 users updates each workspace
-- row once.
CREATE FUNCTION users_live_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users + added.n
    FROM (SELECT workspace_id, COUNT(*) AS n FROM added_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS added
    WHERE workspaces.id = added.workspace_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_live_added AFTER INSERT ON users
REFERENCING NEW TABLE AS added_users
FOR EACH STATEMENT EXECUTE FUNCTION users_live_added();

CREATE FUNCTION users_live_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users - removed.n
    FROM (SELECT workspace_id, COUNT(*) AS n FROM removed_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS removed
    WHERE workspaces.id = removed.workspace_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_live_removed AFTER DELETE ON users
REFERENCING OLD TABLE AS removed_users
FOR EACH STATEMENT EXECUTE FUNCTION users_live_removed();

-- A deletion or a restore sets or clears deleted_at on one user; other updates do not fire.
CREATE FUNCTION users_live_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces
    SET live_users = live_users + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END
    WHERE id = NEW.workspace_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_live_changed AFTER UPDATE OF deleted_at ON users
FOR EACH ROW WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
EXECUTE FUNCTION users_live_changed();

-- Counted last: creating the triggers holds off every write to users until this migration
-- commits, so no change falls between the count and the triggers. The count reads the users_live
-- index once (a few seconds for ten million users), and writes to users wait that long.
UPDATE workspaces SET live_users = (
    SELECT COUNT(*) FROM users
    WHERE users.workspace_id = workspaces.id AND users.deleted_at IS NULL
);
