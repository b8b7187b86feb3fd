-- Live users by their folded userName in code-point order: `userName sw "…"` seeks the range of
-- keys that begin with the prefix (and `gt`/`lt` theirs), whatever the database's collation.
-- The unique index beside it orders by the database's collation, which serves only equality.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_user_name_ordered
    ON users (workspace_id, user_name_key COLLATE "C") WHERE deleted_at IS NULL
