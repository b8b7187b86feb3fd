DROP TRIGGER users_folded_jsonb ON users;
DROP FUNCTION users_folded_jsonb();
ALTER TABLE users DROP COLUMN folded_jsonb;
ALTER TABLE users DROP COLUMN folded_version;
ALTER TABLE users DROP COLUMN folded_document;
