ALTER TABLE workspaces DROP COLUMN live_users;
