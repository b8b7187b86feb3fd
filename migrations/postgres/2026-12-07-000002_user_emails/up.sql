-- Every email value of every user, as filters compare it (folded, from the folded document), so
-- that `emails.value eq "…"` and Entra ID's `emails[type eq "work"].value eq "…"` seek the
-- users that hold the value instead of reading every user's document. Kept by the triggers
-- below from the folded document, whichever statement writes it; removed with the user.
SET LOCAL lock_timeout = '5s';

CREATE TABLE user_emails (
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    value_key    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, value_key, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX user_emails_user ON user_emails (workspace_id, user_id);

ALTER TABLE user_emails ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_emails
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

-- The string values of a document's `emails`: an element that is not an object has none.
CREATE FUNCTION user_email_keys(document jsonb) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT e.v ->> 'value'
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(document -> 'emails') = 'array'
                                   THEN document -> 'emails' ELSE '[]'::jsonb END) AS e(v)
    WHERE jsonb_typeof(e.v -> 'value') = 'string'
$$;

-- A statement that adds many users (the bulk loader) adds their emails in one statement.
CREATE FUNCTION users_emails_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO user_emails (workspace_id, user_id, value_key)
    SELECT a.workspace_id, a.id, k.value_key
    FROM added_emails AS a, user_email_keys(a.folded_jsonb) AS k(value_key)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_emails_added AFTER INSERT ON users
REFERENCING NEW TABLE AS added_emails
FOR EACH STATEMENT EXECUTE FUNCTION users_emails_added();

-- Only where the emails changed: a PATCH of `active` writes the folded document again, the same.
CREATE FUNCTION users_emails_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM user_emails WHERE workspace_id = OLD.workspace_id AND user_id = OLD.id;
    INSERT INTO user_emails (workspace_id, user_id, value_key)
    SELECT NEW.workspace_id, NEW.id, k.value_key FROM user_email_keys(NEW.folded_jsonb) AS k(value_key)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_emails_changed AFTER UPDATE OF folded_document ON users
FOR EACH ROW WHEN (OLD.folded_jsonb -> 'emails' IS DISTINCT FROM NEW.folded_jsonb -> 'emails')
EXECUTE FUNCTION users_emails_changed();

INSERT INTO user_emails (workspace_id, user_id, value_key)
SELECT u.workspace_id, u.id, k.value_key FROM users AS u, user_email_keys(u.folded_jsonb) AS k(value_key)
ON CONFLICT DO NOTHING;
