ALTER TABLE users DROP COLUMN folded_version;
ALTER TABLE users DROP COLUMN folded_document;
