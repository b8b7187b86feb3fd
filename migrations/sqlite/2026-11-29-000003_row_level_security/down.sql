-- SQLite has no row-level security; tenant isolation rests on the scoped queries alone.
SELECT 1;
