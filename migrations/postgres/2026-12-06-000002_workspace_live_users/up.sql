-- How many users each workspace holds (not deleted, active or not); the next migration counts
-- them and keeps the count. A column of its own migration: adding it locks the workspaces table
-- only for the moment it takes, not for the count.
SET LOCAL lock_timeout = '5s';

ALTER TABLE workspaces ADD COLUMN live_users BIGINT NOT NULL DEFAULT 0;
