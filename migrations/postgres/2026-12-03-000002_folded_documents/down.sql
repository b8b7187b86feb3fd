ALTER TABLE users DROP COLUMN folded_jsonb;
ALTER TABLE users DROP COLUMN folded_document;
