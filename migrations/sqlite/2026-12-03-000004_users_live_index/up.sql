-- Live users of a workspace in id order, without visiting the table: the count of a listing and
-- the rows a deep page skips read the index alone.
CREATE INDEX users_live ON users (workspace_id, id) WHERE deleted_at IS NULL;
