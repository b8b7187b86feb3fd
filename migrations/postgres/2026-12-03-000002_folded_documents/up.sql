-- The document as filters compare it: the strings of attributes that ignore case folded by the
-- service's key folding, computed for the row's `version` in `folded_version`. A row written by
-- an earlier release (or before this column) has none, or one of an older version: the service
-- recomputes it in batches (`users::refold_stale`). Nullable columns without a default: no
-- table rewrite.
SET LOCAL lock_timeout = '5s';
ALTER TABLE users ADD COLUMN folded_document TEXT;
ALTER TABLE users ADD COLUMN folded_version BIGINT;
-- The same as jsonb, parsed once when it is written rather than on every filter.
ALTER TABLE users ADD COLUMN folded_jsonb JSONB;
CREATE FUNCTION users_folded_jsonb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.folded_jsonb := CAST(NEW.folded_document AS jsonb);
    RETURN NEW;
END
$$;
CREATE TRIGGER users_folded_jsonb BEFORE INSERT OR UPDATE OF folded_document ON users
    FOR EACH ROW EXECUTE FUNCTION users_folded_jsonb();
