CREATE OR REPLACE FUNCTION users_live_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users + added.n
    FROM (SELECT workspace_id, COUNT(*) AS n FROM added_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS added
    WHERE workspaces.id = added.workspace_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION users_live_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces SET live_users = live_users - removed.n
    FROM (SELECT workspace_id, COUNT(*) AS n FROM removed_users
          WHERE deleted_at IS NULL GROUP BY workspace_id) AS removed
    WHERE workspaces.id = removed.workspace_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION users_live_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE workspaces
    SET live_users = live_users + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END
    WHERE id = NEW.workspace_id;
    RETURN NULL;
END
$$;

ALTER TABLE workspaces DROP COLUMN live_users_stamp;
