ALTER TABLE scim_tokens DROP COLUMN replaced_by;
