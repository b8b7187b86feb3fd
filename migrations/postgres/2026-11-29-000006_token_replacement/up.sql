-- A rotated token names its successor: its grace period ending is then expected, not a warning.
ALTER TABLE scim_tokens ADD COLUMN replaced_by TEXT;
