-- Which folding of text the *_key columns (user_name_key, email_key, display_name_key) were
-- computed with. The keys are computed by the service, not by SQL: `webwork-scim migrate` (and the
-- embedded database at start) recomputes every key of an older folding, then records the new one.
CREATE TABLE key_folding (
    version INTEGER NOT NULL
);
INSERT INTO key_folding (version) VALUES (1);
