-- How many users each workspace holds (not deleted, active or not); the next migration counts
-- them and keeps the count.
ALTER TABLE workspaces ADD COLUMN live_users BIGINT NOT NULL DEFAULT 0;
