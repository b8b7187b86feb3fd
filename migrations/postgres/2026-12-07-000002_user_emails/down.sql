DROP TRIGGER users_emails_changed ON users;
DROP FUNCTION users_emails_changed();
DROP TRIGGER users_emails_added ON users;
DROP FUNCTION users_emails_added();
DROP FUNCTION user_email_keys(jsonb);
DROP TABLE user_emails;
