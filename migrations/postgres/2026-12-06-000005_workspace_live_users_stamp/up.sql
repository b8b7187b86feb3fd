-- A value drawn at random again at every change to each workspace's set of live users (a user
-- added, deleted, restored or removed), by the same triggers that keep the count: a listing that
-- remembers where its pages start in the id order knows, by reading it in its own snapshot,
-- whether that is still true. Random rather than counted, so that a database taken back in time
-- (a restore, a failover to a standby that lagged) cannot repeat a value with other users
-- behind it.
SET LOCAL lock_timeout = '5s';

ALTER TABLE workspaces ADD COLUMN live_users_stamp BIGINT NOT NULL DEFAULT 0;
-- The users already there get a value of their own too (a new workspace starts empty at 0).
UPDATE workspaces SET live_users_stamp = floor(random() * 4e18)::bigint;

CREATE OR REPLACE FUNCTION users_live_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users + added.n,
                          live_users_stamp = floor(random() * 4e18)::bigint
    FROM (SELECT workspace_id, COUNT(*) AS n FROM added_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS added
    WHERE workspaces.id = added.workspace_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION users_live_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users - removed.n,
                          live_users_stamp = floor(random() * 4e18)::bigint
    FROM (SELECT workspace_id, COUNT(*) AS n FROM removed_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS removed
    WHERE workspaces.id = removed.workspace_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION users_live_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces
    SET live_users = live_users + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END,
        live_users_stamp = floor(random() * 4e18)::bigint
    WHERE id = NEW.workspace_id;
    RETURN NULL;
END
$$;
