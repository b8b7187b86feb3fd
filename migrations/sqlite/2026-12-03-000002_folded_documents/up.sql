-- The document as filters compare it: the strings of attributes that ignore case folded by the
-- service's key folding, computed for the row's `version` in `folded_version`. A row written by
-- an earlier release (or before this column) has none, or one of an older version: the service
-- recomputes it in batches (`users::refold_stale`).
ALTER TABLE users ADD COLUMN folded_document TEXT;
ALTER TABLE users ADD COLUMN folded_version BIGINT;
