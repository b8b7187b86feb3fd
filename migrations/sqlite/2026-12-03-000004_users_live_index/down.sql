DROP INDEX users_live;
