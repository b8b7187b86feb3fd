DROP TRIGGER users_emails_changed;
DROP TRIGGER users_emails_added;
DROP VIEW user_email_values;
DROP TABLE user_emails;
