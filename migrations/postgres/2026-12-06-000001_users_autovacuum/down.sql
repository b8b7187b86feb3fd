ALTER TABLE users ALTER COLUMN workspace_id SET STATISTICS -1;
ALTER TABLE users RESET (
    autovacuum_analyze_scale_factor,
    autovacuum_analyze_threshold,
    autovacuum_vacuum_insert_scale_factor,
    autovacuum_vacuum_insert_threshold
);
