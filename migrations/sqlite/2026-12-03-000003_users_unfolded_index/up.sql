-- The users whose folded document is missing or older than the row.
CREATE INDEX users_unfolded ON users (workspace_id) WHERE folded_version IS NULL OR folded_version <> version;
