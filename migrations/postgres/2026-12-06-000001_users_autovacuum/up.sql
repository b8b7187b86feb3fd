-- Every workspace's users share this table. PostgreSQL's defaults analyse it after a tenth of it
-- changed, so a new workspace importing 100,000 users into a table of ten million would stay
-- unknown to the planner for weeks: it would plan that workspace's pages as if it were empty,
-- scanning all of its rows for each page of 100. Analyse, and set the visibility map that lets
-- a listing's count read the users_live index alone, after a fixed number of changed rows instead.
ALTER TABLE users SET (
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 20000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 20000
);

-- Room for the 500 largest workspaces in the most-common-values list, so that a large one is
-- planned for its own size rather than for the average workspace's.
ALTER TABLE users ALTER COLUMN workspace_id SET STATISTICS 500;
