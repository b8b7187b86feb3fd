-- How many times each workspace's set of live users has changed (a user added, deleted, restored
-- or removed), kept by the same triggers as the count: a listing that remembers where its pages
-- start in the id order knows, by reading it in its own transaction, whether that is still true.
SET LOCAL lock_timeout = '5s';

ALTER TABLE workspaces ADD COLUMN live_user_changes BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION users_live_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users + added.n,
                          live_user_changes = live_user_changes + added.n
    FROM (SELECT workspace_id, COUNT(*) AS n FROM added_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS added
    WHERE workspaces.id = added.workspace_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION users_live_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users - removed.n,
                          live_user_changes = live_user_changes + removed.n
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
        live_user_changes = live_user_changes + 1
    WHERE id = NEW.workspace_id;
    RETURN NULL;
END
$$;
