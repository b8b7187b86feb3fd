DROP TRIGGER users_live_removed;
DROP TRIGGER users_live_restored;
DROP TRIGGER users_live_deleted;
DROP TRIGGER users_live_added;
