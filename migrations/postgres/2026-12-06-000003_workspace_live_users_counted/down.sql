DROP TRIGGER users_live_changed ON users;
DROP TRIGGER users_live_removed ON users;
DROP TRIGGER users_live_added ON users;
DROP FUNCTION users_live_changed();
DROP FUNCTION users_live_removed();
DROP FUNCTION users_live_added();
