DROP FUNCTION scim_live_user_by_user_name_key(TEXT, TEXT);
DROP FUNCTION scim_live_user_by_id(TEXT, TEXT);
