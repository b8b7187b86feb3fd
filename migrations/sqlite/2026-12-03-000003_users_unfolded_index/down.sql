DROP INDEX users_unfolded;
