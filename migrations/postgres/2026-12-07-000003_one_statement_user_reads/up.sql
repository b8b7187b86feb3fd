-- Okta's reads of one user (GET by id, the look-up by userName before every create) as one
-- statement outside any transaction: each function scopes its own read to the workspace, as a
-- tenant transaction's first round trip does. One round trip where BEGIN with the scope, the
-- read and COMMIT take three. The functions run as their caller (row-level security applies to
-- the read) and find the tables by the caller's search_path, as every other statement of the
-- service does. `SET app.workspace_id` restores the caller's setting when the function returns,
-- so the scope ends with the function even inside a transaction.
-- The columns and the groups' JSON are those of the service's own read of a user (`UserRow`
-- and `GroupsJson` in crates/persistence/src/users): change them together.

CREATE FUNCTION scim_live_user_by_id(workspace TEXT, wanted TEXT)
RETURNS TABLE (
    id TEXT, user_name TEXT, external_id TEXT, active BOOLEAN, display_name TEXT,
    document TEXT, version BIGINT, created_at TIMESTAMP, updated_at TIMESTAMP,
    app_roles TEXT, session_version BIGINT, groups TEXT
)
LANGUAGE plpgsql
SET app.workspace_id = ''
AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.workspace_id', workspace, true);
    RETURN QUERY
    SELECT u.id, u.user_name, u.external_id, u.active, u.display_name, u.document, u.version,
           u.created_at, u.updated_at, u.app_roles, u.session_version,
           (SELECT COALESCE(json_agg(json_build_array(g.id, g.display_name) ORDER BY g.id),
                            '[]')::text
            FROM group_members m
            JOIN groups g ON g.workspace_id = m.workspace_id AND g.id = m.group_id
            WHERE m.workspace_id = u.workspace_id AND m.user_id = u.id)
    FROM users u
    WHERE u.workspace_id = workspace AND u.id = wanted AND u.deleted_at IS NULL;
END
$$;

CREATE FUNCTION scim_live_user_by_user_name_key(workspace TEXT, wanted TEXT)
RETURNS TABLE (
    id TEXT, user_name TEXT, external_id TEXT, active BOOLEAN, display_name TEXT,
    document TEXT, version BIGINT, created_at TIMESTAMP, updated_at TIMESTAMP,
    app_roles TEXT, session_version BIGINT, groups TEXT
)
LANGUAGE plpgsql
SET app.workspace_id = ''
AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.workspace_id', workspace, true);
    RETURN QUERY
    SELECT u.id, u.user_name, u.external_id, u.active, u.display_name, u.document, u.version,
           u.created_at, u.updated_at, u.app_roles, u.session_version,
           (SELECT COALESCE(json_agg(json_build_array(g.id, g.display_name) ORDER BY g.id),
                            '[]')::text
            FROM group_members m
            JOIN groups g ON g.workspace_id = m.workspace_id AND g.id = m.group_id
            WHERE m.workspace_id = u.workspace_id AND m.user_id = u.id)
    FROM users u
    WHERE u.workspace_id = workspace AND u.user_name_key = wanted AND u.deleted_at IS NULL;
END
$$;
