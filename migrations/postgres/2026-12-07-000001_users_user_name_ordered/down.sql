DROP INDEX CONCURRENTLY IF EXISTS users_user_name_ordered
