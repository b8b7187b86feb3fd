ALTER TABLE users DROP COLUMN folded_document;
