CREATE INDEX CONCURRENTLY IF NOT EXISTS users_unfolded ON users (workspace_id) WHERE folded_version IS NULL OR folded_version <> version
