-- Every email value of every user, as filters compare it (folded, from the folded document), so
-- that `emails.value eq "…"` and Entra ID's `emails[type eq "work"].value eq "…"` seek the
-- users that hold the value instead of reading every user's document. Kept by the triggers
-- below from the folded document, whichever statement writes it; removed with the user.
CREATE TABLE user_emails (
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    value_key    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, value_key, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX user_emails_user ON user_emails (workspace_id, user_id);

-- The string values of each user's `emails`: an element that is not an object has none.
CREATE VIEW user_email_values AS
SELECT u.workspace_id, u.id AS user_id,
       json_extract(CASE WHEN e.type = 'object' THEN e.value END, '$.value') AS value_key
FROM users AS u, json_each(u.folded_document, '$.emails') AS e
WHERE json_type(CASE WHEN e.type = 'object' THEN e.value END, '$.value') = 'text';

CREATE TRIGGER users_emails_added AFTER INSERT ON users
BEGIN
    INSERT OR IGNORE INTO user_emails (workspace_id, user_id, value_key)
    SELECT workspace_id, user_id, value_key FROM user_email_values
    WHERE workspace_id = NEW.workspace_id AND user_id = NEW.id;
END;

CREATE TRIGGER users_emails_changed AFTER UPDATE OF folded_document ON users
WHEN json_extract(OLD.folded_document, '$.emails') IS NOT json_extract(NEW.folded_document, '$.emails')
BEGIN
    DELETE FROM user_emails WHERE workspace_id = OLD.workspace_id AND user_id = OLD.id;
    INSERT OR IGNORE INTO user_emails (workspace_id, user_id, value_key)
    SELECT workspace_id, user_id, value_key FROM user_email_values
    WHERE workspace_id = NEW.workspace_id AND user_id = NEW.id;
END;

INSERT OR IGNORE INTO user_emails (workspace_id, user_id, value_key)
SELECT workspace_id, user_id, value_key FROM user_email_values;
