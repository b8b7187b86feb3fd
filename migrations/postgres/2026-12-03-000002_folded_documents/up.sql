-- The document as filters compare it: the strings of attributes that ignore case folded by the
-- service's key folding. `webwork-scim migrate` (and the embedded database at start) fills it for
-- existing users, as it recomputes keys of an older folding.
ALTER TABLE users ADD COLUMN folded_document TEXT NOT NULL DEFAULT '{}';
-- The same as jsonb, parsed once when the row is written rather than on every filter.
ALTER TABLE users ADD COLUMN folded_jsonb JSONB GENERATED ALWAYS AS (CAST(folded_document AS jsonb)) STORED;
