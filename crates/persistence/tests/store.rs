//! Repository tests against a real database: SQLite by default, PostgreSQL with
//! `TEST_BACKEND=postgres`. Each test has its own database (or schema).

// Test fixtures fail the test at once, hence unwrap and expect outside `#[test]` functions too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::prelude::*;
use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{DomainError, Plan, UserDraft, UserId, WorkspaceKey};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users::{self, ListQuery};
use webwork_scim_persistence::{
    Access, StoreError, audit, migrations, provisioning_errors, tokens, unscoped, workspaces,
};

fn draft(body: serde_json::Value) -> UserDraft {
    UserDraft::from_scim(&body).expect("valid user")
}

fn jane() -> UserDraft {
    draft(
        json!({"userName": "Jane@Acme.com", "externalId": "00uJane", "name": {"givenName": "Jane"}}),
    )
}

fn all(filter: Option<&Filter>) -> ListQuery<'_> {
    ListQuery {
        filter,
        offset: 0,
        limit: 100,
    }
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::empty();
    let mut conn = db.store.connection().unwrap();
    assert!(!migrations::is_up_to_date(&mut conn).unwrap());
    assert!(!migrations::run_pending(&mut conn).unwrap().is_empty());
    assert!(migrations::is_up_to_date(&mut conn).unwrap());
    assert!(migrations::revert_all(&mut conn).unwrap() > 0);
    assert!(!migrations::run_pending(&mut conn).unwrap().is_empty());
    assert!(migrations::run_pending(&mut conn).unwrap().is_empty());
}

#[test]
fn workspaces_are_created_found_and_changed_by_key() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let found = db
        .store
        .unscoped(Access::Read, |conn| workspaces::find_by_key(conn, &ws.key))
        .unwrap()
        .unwrap();
    assert_eq!(found, ws);
    let pro = db
        .store
        .unscoped(Access::Write, |conn| {
            workspaces::set_plan(conn, &ws.key, Plan::Pro)
        })
        .unwrap()
        .unwrap();
    assert_eq!(pro.plan, Plan::Pro);
    let off = db
        .store
        .unscoped(Access::Write, |conn| {
            workspaces::set_sso(conn, &ws.key, false)
        })
        .unwrap()
        .unwrap();
    assert!(!off.sso_enabled);
    let missing = WorkspaceKey::parse("nobody-here").unwrap();
    assert!(
        db.store
            .unscoped(Access::Read, |conn| workspaces::find_by_key(conn, &missing))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.store.unscoped(Access::Read, workspaces::count).unwrap(),
        1
    );
}

#[test]
fn users_round_trip_with_their_document() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let created = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), Some("$argon2id$x")))
        .unwrap();
    assert_eq!(created.user_name, "Jane@Acme.com");
    assert_eq!(created.version, 1);
    assert_eq!(created.document["name"]["givenName"], "Jane");
    let found = db
        .store
        .read(ws.id, |tx| users::find(tx, created.id))
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert_eq!(
        created.created_at.nanosecond() % 1000,
        0,
        "microsecond precision"
    );
}

#[test]
fn user_names_are_unique_per_workspace_ignoring_case_and_unicode_form() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    db.store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    let again = db.store.write(ws.id, |tx| {
        users::insert(tx, &draft(json!({"userName": "jane@ACME.com"})), None)
    });
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    db.store
        .write(ws.id, |tx| {
            users::insert(tx, &draft(json!({"userName": "strasse"})), None)
        })
        .unwrap();
    let folded = db.store.write(ws.id, |tx| {
        users::insert(tx, &draft(json!({"userName": "STRAßE"})), None)
    });
    assert!(matches!(folded, Err(StoreError::Conflict)), "{folded:?}");
    // The same userName may live in another workspace.
    db.store
        .write(other.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
}

#[test]
fn another_workspaces_users_are_invisible() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    let user = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    assert!(
        db.store
            .read(other.id, |tx| users::find(tx, user.id))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.store
            .read(other.id, |tx| users::list(tx, all(None)))
            .unwrap()
            .total,
        0
    );
    assert!(
        db.store
            .write(other.id, |tx| users::replace(
                tx,
                user.id,
                &jane(),
                None,
                None
            ))
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .write(other.id, |tx| users::delete(tx, user.id))
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .read(ws.id, |tx| users::find(tx, user.id))
            .unwrap()
            .is_some()
    );
}

#[test]
fn filters_find_by_user_name_and_external_id() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let jane = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    db.store
        .write(ws.id, |tx| users::insert(tx, &draft(json!({"userName": "bob_o%hara@acme.com", "externalId": "00uBob", "active": false})), None))
        .unwrap();
    let cases = [
        (r#"userName eq "jane@acme.com""#, vec!["Jane@Acme.com"]),
        (r#"userName eq "JANE@ACME.COM""#, vec!["Jane@Acme.com"]),
        (r#"externalId eq "00uJane""#, vec!["Jane@Acme.com"]),
        (r#"externalId eq "00ujane""#, vec![]),
        (r#"userName sw "bob_o%""#, vec!["bob_o%hara@acme.com"]),
        (r#"userName co "_o%h""#, vec!["bob_o%hara@acme.com"]),
        (r#"userName co "o_h""#, vec![]),
        (
            r#"userName ew "@ACME.com""#,
            vec!["Jane@Acme.com", "bob_o%hara@acme.com"],
        ),
        (r#"active eq false"#, vec!["bob_o%hara@acme.com"]),
        (
            r#"not (active eq false) and externalId pr"#,
            vec!["Jane@Acme.com"],
        ),
        (
            r#"userName eq "nobody" or externalId eq "00uBob""#,
            vec!["bob_o%hara@acme.com"],
        ),
        (r#"externalId ne "00uBob""#, vec!["Jane@Acme.com"]),
        (r#"userName eq "nobody@acme.com""#, vec![]),
    ];
    for (text, expected) in cases {
        let filter = Filter::parse(text).unwrap();
        let page = db
            .store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))))
            .unwrap();
        let names: Vec<_> = page.users.iter().map(|u| u.user_name.as_str()).collect();
        assert_eq!(names, expected, "{text}");
        assert_eq!(page.total, expected.len() as i64, "{text}");
    }
    let by_id = Filter::parse(&format!(r#"id eq "{}""#, jane.id)).unwrap();
    assert_eq!(
        db.store
            .read(ws.id, |tx| users::list(tx, all(Some(&by_id))))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn filters_the_database_cannot_answer_are_refused() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    for text in [
        r#"title eq "x""#,
        r#"emails[type eq "work"]"#,
        r#"not (emails[type eq "work"].value eq "a@b.c")"#,
        r#"phoneNumbers[value eq "1"]"#,
        r#"userName gt "a""#,
        r#"userName eq true"#,
    ] {
        let filter = Filter::parse(text).unwrap();
        let result = db
            .store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))));
        assert!(
            matches!(
                result,
                Err(StoreError::Domain(
                    DomainError::UnsupportedFilter(_) | DomainError::InvalidFilter(_)
                ))
            ),
            "{text}: {result:?}"
        );
    }
}

#[test]
fn entra_finds_users_by_their_work_email_value_path() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let jane = db
        .store
        .write(ws.id, |tx| {
            users::insert(
                tx,
                &draft(json!({"userName": "jdoe", "emails": [
                    {"value": "Jane@Acme.com", "type": "work", "primary": true},
                    {"value": "jane@home.example", "type": "home"}]})),
                None,
            )
        })
        .unwrap();
    db.store
        .write(ws.id, |tx| {
            users::insert(
                tx,
                &draft(json!({"userName": "other", "emails": [{"value": "x@acme.com"}]})),
                None,
            )
        })
        .unwrap();
    let find = |text: &str| {
        let filter = Filter::parse(text).unwrap();
        db.store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))))
            .unwrap()
    };
    for text in [
        r#"emails[type eq "work"].value eq "jane@acme.com""#,
        r#"emails[type eq "work" and value eq "JANE@acme.com"]"#,
        r#"userName eq "jdoe" and emails[type eq "work"].value eq "jane@acme.com""#,
    ] {
        let page = find(text);
        assert_eq!((page.total, page.users.len()), (1, 1), "{text}");
        assert_eq!(page.users[0].id, jane.id);
    }
    for text in [
        r#"emails[type eq "home"].value eq "jane@acme.com""#,
        r#"emails[type eq "work"].value eq "nobody@acme.com""#,
        r#"userName eq "other" and emails[type eq "work"].value eq "jane@acme.com""#,
    ] {
        assert_eq!(find(text).total, 0, "{text}");
    }
}

#[test]
fn pages_are_stable_and_counted() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    for i in 0..7 {
        db.store
            .write(ws.id, |tx| {
                users::insert(tx, &draft(json!({"userName": format!("user{i}")})), None)
            })
            .unwrap();
    }
    let mut seen = Vec::new();
    for offset in (0..7).step_by(3) {
        let page = db
            .store
            .read(ws.id, |tx| {
                users::list(
                    tx,
                    ListQuery {
                        filter: None,
                        offset,
                        limit: 3,
                    },
                )
            })
            .unwrap();
        assert_eq!(page.total, 7);
        seen.extend(page.users.into_iter().map(|u| u.user_name));
    }
    let expected: Vec<_> = (0..7).map(|i| format!("user{i}")).collect();
    assert_eq!(seen, expected);
    let past = db
        .store
        .read(ws.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: None,
                    offset: 50,
                    limit: 3,
                },
            )
        })
        .unwrap();
    assert_eq!((past.total, past.users.len()), (7, 0));
    let none = db
        .store
        .read(ws.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: None,
                    offset: 0,
                    limit: 0,
                },
            )
        })
        .unwrap();
    assert_eq!((none.total, none.users.len()), (7, 0));
}

fn stored_hash(db: &TestDb, ws: webwork_scim_domain::WorkspaceId, id: UserId) -> Option<String> {
    db.store
        .read(ws, |tx| users::password_hash(tx, id))
        .unwrap()
}

#[test]
fn replace_bumps_the_version_and_keeps_the_password_unless_given() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let user = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), Some("hash-1")))
        .unwrap();
    let inactive = draft(json!({"userName": "Jane@Acme.com", "active": false, "title": "CTO"}));
    let replaced = db
        .store
        .write(ws.id, |tx| {
            users::replace(tx, user.id, &inactive, None, None)
        })
        .unwrap()
        .unwrap();
    assert_eq!(replaced.version, 2);
    assert!(!replaced.active);
    assert_eq!(replaced.external_id, None);
    assert_eq!(replaced.document["title"], "CTO");
    assert_eq!(replaced.id, user.id);
    assert_eq!(stored_hash(&db, ws.id, user.id).as_deref(), Some("hash-1"));
    db.store
        .write(ws.id, |tx| {
            users::replace(tx, user.id, &inactive, Some("hash-2"), None)
        })
        .unwrap();
    assert_eq!(stored_hash(&db, ws.id, user.id).as_deref(), Some("hash-2"));
    let stale = db.store.write(ws.id, |tx| {
        users::replace(tx, user.id, &inactive, None, Some(1))
    });
    assert!(matches!(stale, Err(StoreError::Concurrent)));
}

#[test]
fn renaming_onto_a_taken_user_name_conflicts_and_changes_nothing() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    db.store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    let bob = db
        .store
        .write(ws.id, |tx| {
            users::insert(tx, &draft(json!({"userName": "bob"})), None)
        })
        .unwrap();
    let clash = db.store.write(ws.id, |tx| {
        users::replace(
            tx,
            bob.id,
            &draft(json!({"userName": "JANE@acme.com"})),
            None,
            None,
        )
    });
    assert!(matches!(clash, Err(StoreError::Conflict)));
    let unchanged = db
        .store
        .read(ws.id, |tx| users::find(tx, bob.id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (unchanged.user_name.as_str(), unchanged.version),
        ("bob", 1)
    );
}

#[test]
fn delete_frees_the_user_name_and_keeps_a_tombstone() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let user = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    assert!(
        db.store
            .write(ws.id, |tx| users::delete(tx, user.id))
            .unwrap()
            .is_some()
    );
    assert!(
        db.store
            .write(ws.id, |tx| users::delete(tx, user.id))
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .read(ws.id, |tx| users::find(tx, user.id))
            .unwrap()
            .is_none()
    );
    let again = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    assert_ne!(again.id, user.id);
    use raw::count_rows;
    assert_eq!(count_rows(&db, ws.id), 2, "the tombstone stays");
}

/// Reads the raw row count, tombstones included, outside the repository API.
mod raw {
    use super::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// Inside the workspace's transaction, so that row-level security lets the rows through.
    pub fn count_rows(db: &TestDb, workspace: webwork_scim_domain::WorkspaceId) -> i64 {
        db.store
            .read(workspace, |tx| {
                diesel::sql_query("SELECT COUNT(*) AS n FROM users")
                    .get_result::<Count>(tx.connection())
                    .map_err(StoreError::from)
            })
            .unwrap()
            .n
    }
}

#[test]
fn a_failed_transaction_writes_nothing() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let result: Result<(), StoreError> = db.store.write(ws.id, |tx| {
        users::insert(tx, &jane(), None)?;
        Err(StoreError::Domain(DomainError::invalid_value(
            "refused after the insert",
        )))
    });
    assert!(result.is_err());
    assert_eq!(
        db.store
            .read(ws.id, |tx| users::list(tx, all(None)))
            .unwrap()
            .total,
        0
    );
}

#[test]
fn tokens_are_issued_listed_resolved_and_revoked() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    let token = db
        .store
        .write(ws.id, |tx| {
            tokens::insert(tx, "0123456789ab", "$argon2id$hash", "okta", None)
        })
        .unwrap();
    assert_eq!(token.label, "okta");
    let listed = db.store.read(ws.id, tokens::list).unwrap();
    assert_eq!(listed, vec![token.clone()]);
    assert!(db.store.read(other.id, tokens::list).unwrap().is_empty());

    let stored = db
        .store
        .read(ws.id, |tx| tokens::find_by_prefix(tx, "0123456789ab"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, token.id);
    assert_eq!(stored.secret_hash, "$argon2id$hash");
    assert!(stored.revoked_at.is_none());
    // The prefix of workspace A's token means nothing in workspace B.
    assert!(
        db.store
            .read(other.id, |tx| tokens::find_by_prefix(tx, "0123456789ab"))
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .write(other.id, |tx| tokens::revoke(tx, token.id))
            .unwrap()
            .is_none()
    );

    let revoked = db
        .store
        .write(ws.id, |tx| tokens::revoke(tx, token.id))
        .unwrap()
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    let again = db
        .store
        .write(ws.id, |tx| tokens::revoke(tx, token.id))
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    let stored = db
        .store
        .read(ws.id, |tx| tokens::find_by_prefix(tx, "0123456789ab"))
        .unwrap()
        .unwrap();
    assert!(stored.revoked_at.is_some());
}

#[test]
fn concurrent_writers_all_succeed() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let db = &db;
            scope.spawn(move || {
                for i in 0..25 {
                    let user = draft(json!({"userName": format!("t{t}-u{i}")}));
                    db.store
                        .write(ws.id, |tx| users::insert(tx, &user, None))
                        .expect("insert under contention");
                }
            });
        }
    });
    assert_eq!(
        db.store
            .read(ws.id, |tx| users::list(tx, all(None)))
            .unwrap()
            .total,
        100
    );
}

#[test]
fn sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys() {
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Sqlite {
        return;
    }
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Flag {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }
    let db = TestDb::new();
    let mut conn = db.store.connection().unwrap();
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
    let fk: Flag = diesel::sql_query("SELECT foreign_keys AS value FROM pragma_foreign_keys")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(fk.value, 1);
    let busy: Flag = diesel::sql_query("SELECT timeout AS value FROM pragma_busy_timeout")
        .get_result(&mut *conn)
        .unwrap();
    assert!(busy.value >= 1000);
    // Foreign keys are enforced: a user of a workspace that does not exist is refused.
    let orphan = diesel::sql_query(
        "INSERT INTO users (workspace_id, id, user_name, user_name_key, active, document, version, created_at, updated_at)
         VALUES ('nope', 'x', 'a', 'a', 1, '{}', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .execute(&mut *conn);
    assert!(orphan.is_err());
}

#[test]
fn token_rotation_expiry_counts_and_last_use() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let now = time::OffsetDateTime::now_utc();
    let a = db
        .store
        .write(ws.id, |tx| {
            tokens::insert(tx, "aaaaaaaaaaaa", "h", "a", None)
        })
        .unwrap();
    db.store
        .write(ws.id, |tx| {
            tokens::insert(
                tx,
                "bbbbbbbbbbbb",
                "h",
                "b",
                Some(now - time::Duration::hours(1)),
            )
        })
        .unwrap();
    assert_eq!(
        db.store
            .read(ws.id, |tx| tokens::count_active(tx, now))
            .unwrap(),
        1
    );
    let rotated = db
        .store
        .write(ws.id, |tx| {
            tokens::expire_by(tx, a.id, now + time::Duration::hours(24))
        })
        .unwrap()
        .unwrap();
    assert!(rotated.expires_at.is_some());
    let later = db
        .store
        .write(ws.id, |tx| {
            tokens::expire_by(tx, a.id, now + time::Duration::hours(48))
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        later.expires_at, rotated.expires_at,
        "rotation never extends a token"
    );
    db.store
        .write(ws.id, |tx| tokens::touch_last_used(tx, a.id, now))
        .unwrap();
    let listed = db.store.read(ws.id, tokens::list).unwrap();
    assert!(listed[0].last_used_at.is_some());
    assert_eq!(db.store.write(ws.id, tokens::revoke_all).unwrap(), 2);
    assert_eq!(
        db.store
            .read(ws.id, |tx| tokens::count_active(tx, now))
            .unwrap(),
        0
    );
}

#[test]
fn workspace_settings_overrides_and_listing() {
    use webwork_scim_domain::EntitlementOverrides;
    use webwork_scim_persistence::workspaces::WorkspaceUpdate;
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Pro, false);
    db.workspace("Globex", Plan::Free, false);
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(14);
    let trial = EntitlementOverrides {
        scim_provisioning: Some(true),
        seats: Some(10),
        ..EntitlementOverrides::default()
    };
    let updated = db
        .store
        .unscoped(Access::Write, |conn| {
            workspaces::update(
                conn,
                &ws.key,
                WorkspaceUpdate {
                    seats: Some(Some(50)),
                    idp_issuer: Some(Some("https://acme.okta.com".into())),
                    overrides: Some((Some(trial.clone()), Some(until))),
                    ..WorkspaceUpdate::default()
                },
            )
        })
        .unwrap()
        .unwrap();
    assert_eq!(updated.seats, Some(50));
    assert_eq!(updated.overrides, Some(trial));
    assert_eq!(updated.idp_issuer.as_deref(), Some("https://acme.okta.com"));
    assert!(updated.overrides_expire_at.is_some());
    assert_eq!(updated.plan, Plan::Pro, "untouched columns stay");
    let (total, page) = db
        .store
        .unscoped(Access::Read, |conn| unscoped::list_workspaces(conn, 0, 1))
        .unwrap();
    assert_eq!((total, page.len()), (2, 1));
    assert!(
        db.store
            .unscoped(Access::Write, |conn| workspaces::mark_deleted(
                conn, &ws.key
            ))
            .unwrap()
    );
    assert!(
        db.store
            .unscoped(Access::Read, |conn| workspaces::find_by_key(conn, &ws.key))
            .unwrap()
            .is_none()
    );
    let (total, _) = db
        .store
        .unscoped(Access::Read, |conn| unscoped::list_workspaces(conn, 0, 10))
        .unwrap();
    assert_eq!(total, 1);
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        db.store
            .unscoped(Access::Write, |conn| unscoped::purge_deleted_workspaces(
                conn, future
            ))
            .unwrap(),
        1
    );
}

#[test]
fn audit_and_error_logs_list_newest_first_with_filters() {
    use webwork_scim_domain::{Actor, AuditEvent};
    use webwork_scim_persistence::audit::LogQuery;
    use webwork_scim_persistence::provisioning_errors::FailedRequest;
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    for i in 0..5 {
        let event = AuditEvent::new(
            if i % 2 == 0 {
                "user.created"
            } else {
                "user.updated"
            },
            format!("u{i}"),
        )
        .with_attributes(vec!["title".into()]);
        db.store
            .write(ws.id, |tx| {
                audit::record(tx, &Actor::Operator, Some("req-1"), &event)
            })
            .unwrap();
    }
    let all = db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    let targets: Vec<_> = all.iter().map(|e| e.target_id.clone().unwrap()).collect();
    assert_eq!(targets, vec!["u4", "u3", "u2", "u1", "u0"]);
    assert_eq!(all[0].attributes, vec!["title"]);
    assert_eq!(all[0].actor, "cli");
    let page2 = db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 2,
                    before: Some(&all[1].id),
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert_eq!(
        page2
            .iter()
            .map(|e| e.target_id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec!["u2", "u1"]
    );
    let created = db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    action: Some("user.created"),
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert_eq!(created.len(), 3);
    assert!(
        db.store
            .read(other.id, |tx| audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                }
            ))
            .unwrap()
            .is_empty()
    );

    let failed = FailedRequest {
        actor: "token:x".into(),
        method: "POST".into(),
        route: "/scim/v2/{workspace}/Users".into(),
        status: 409,
        scim_type: Some("uniqueness".into()),
        detail: "taken".into(),
        request_id: Some("r".into()),
    };
    db.store
        .write(ws.id, |tx| provisioning_errors::record(tx, &failed))
        .unwrap();
    let errors = db
        .store
        .read(ws.id, |tx| {
            provisioning_errors::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].request, failed);
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        db.store
            .write(ws.id, |tx| audit::purge_before(tx, future))
            .unwrap(),
        5
    );
    assert_eq!(
        db.store
            .write(ws.id, |tx| provisioning_errors::purge_before(tx, future))
            .unwrap(),
        1
    );
}

#[test]
fn seats_count_active_users_and_erasure_scrubs_personal_data() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let stored = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), Some("hash")))
        .unwrap();
    db.store
        .write(ws.id, |tx| {
            users::insert(
                tx,
                &draft(json!({"userName": "off", "active": false})),
                None,
            )
        })
        .unwrap();
    assert_eq!(
        db.store
            .read(ws.id, |tx| users::count_active(tx, None))
            .unwrap(),
        1
    );
    assert_eq!(
        db.store
            .read(ws.id, |tx| users::count_active(tx, Some(stored.id)))
            .unwrap(),
        0
    );
    db.store
        .write(ws.id, |tx| {
            users::lock_workspace(tx)?;
            users::count_active(tx, None)
        })
        .unwrap();
    assert!(
        db.store
            .write(ws.id, |tx| users::erase(tx, stored.id))
            .unwrap()
            .is_some()
    );
    assert!(
        db.store
            .read(ws.id, |tx| users::find(tx, stored.id))
            .unwrap()
            .is_none()
    );
    assert!(stored_hash(&db, ws.id, stored.id).is_none());
    // The name is free again.
    db.store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    assert!(
        db.store
            .write(ws.id, |tx| users::erase(tx, UserId::generate()))
            .unwrap()
            .is_none()
    );
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        db.store
            .write(ws.id, |tx| users::purge_deleted_before(tx, future))
            .unwrap(),
        1
    );
}

#[test]
fn row_level_security_scopes_even_an_unscoped_query() {
    use diesel::sql_types::{BigInt, Bool};
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Postgres {
        return; // SQLite has no row-level security
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    #[derive(QueryableByName)]
    struct Role {
        #[diesel(sql_type = Bool)]
        superuser: bool,
        #[diesel(sql_type = Bool)]
        bypass: bool,
        #[diesel(sql_type = Bool)]
        owns: bool,
    }
    let db = TestDb::new();
    let a = db.workspace("Acme", Plan::Premium, true);
    let b = db.workspace("Globex", Plan::Premium, true);
    for name in ["a1", "a2"] {
        db.store
            .write(a.id, |tx| {
                users::insert(tx, &draft(json!({"userName": name})), None)
            })
            .unwrap();
    }
    db.store
        .write(b.id, |tx| {
            users::insert(tx, &draft(json!({"userName": "b1"})), None)
        })
        .unwrap();
    let everything = "SELECT COUNT(*) AS n FROM users";
    let count_in = |ws| {
        db.store
            .read(ws, |tx| {
                diesel::sql_query(everything)
                    .get_result::<Count>(tx.connection())
                    .map_err(StoreError::from)
            })
            .unwrap()
            .n
    };
    assert_eq!(
        count_in(a.id),
        2,
        "a query without WHERE sees only its tenant's rows"
    );
    assert_eq!(count_in(b.id), 1);
    let outside = db
        .store
        .unscoped(Access::Read, |conn| {
            diesel::sql_query(everything)
                .get_result::<Count>(conn)
                .map_err(StoreError::from)
        })
        .unwrap();
    assert_eq!(
        outside.n, 0,
        "outside a tenant transaction no tenant row is visible"
    );
    let smuggled = db.store.write(a.id, |tx| {
        diesel::sql_query(format!(
            "INSERT INTO users (workspace_id, id, user_name, user_name_key, active, document, version, created_at, updated_at)
             VALUES ('{}', 'x', 'evil', 'evil', TRUE, '{{}}', 1, now(), now())",
            b.id
        ))
        .execute(tx.connection())
        .map_err(StoreError::from)
    });
    assert!(
        smuggled.is_err(),
        "a row for another workspace cannot be written"
    );
    assert_eq!(count_in(b.id), 1);
    let role = db
        .store
        .unscoped(Access::Read, |conn| {
            diesel::sql_query(
                "SELECT rolsuper AS superuser, rolbypassrls AS bypass,
                        EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'users' AND tableowner = current_user) AS owns
                 FROM pg_roles WHERE rolname = current_user",
            )
            .get_result::<Role>(conn)
            .map_err(StoreError::from)
        })
        .unwrap();
    assert!(
        !role.superuser && !role.bypass && !role.owns,
        "the service role is bound by row-level security"
    );
}

#[test]
fn every_table_with_a_workspace_column_has_row_level_security() {
    use diesel::sql_types::Text;
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Postgres {
        return; // SQLite has no row-level security
    }
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let db = TestDb::new();
    let unguarded = |protected: bool| {
        db.store
            .unscoped(Access::Read, |conn| {
                diesel::sql_query(format!(
                    "SELECT c.relname AS name FROM pg_class c
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id'
                     WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
                       AND c.relrowsecurity = {protected} ORDER BY 1"
                ))
                .load::<Table>(conn)
                .map_err(StoreError::from)
            })
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(unguarded(false), Vec::<String>::new());
    let guarded = unguarded(true);
    for table in [
        "users",
        "groups",
        "group_members",
        "scim_tokens",
        "outbox_events",
    ] {
        assert!(guarded.iter().any(|t| t == table), "{table} in {guarded:?}");
    }
}

#[test]
fn the_outbox_holds_back_later_events_of_an_aggregate_until_earlier_ones_are_delivered() {
    use webwork_scim_persistence::outbox;
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    for (aggregate, kind) in [
        ("u1", "user.created"),
        ("u1", "user.updated"),
        ("u2", "user.created"),
    ] {
        db.store
            .write(ws.id, |tx| outbox::enqueue(tx, aggregate, kind, &json!({})))
            .unwrap();
    }
    let now = time::OffsetDateTime::now_utc();
    let lease = now + time::Duration::seconds(30);
    let first = db
        .store
        .outbox(|conn| outbox::claim(conn, now, lease, 10))
        .unwrap();
    let claimed: Vec<_> = first
        .iter()
        .map(|e| (e.aggregate_id.as_str(), e.event_type.as_str()))
        .collect();
    assert_eq!(
        claimed,
        [("u1", "user.created"), ("u2", "user.created")],
        "u1's second event waits"
    );
    let again = db
        .store
        .outbox(|conn| outbox::claim(conn, now, lease, 10))
        .unwrap();
    assert!(again.is_empty(), "leased events are not claimed twice");
    let (u1, u2) = (&first[0], &first[1]);
    db.store
        .outbox(|conn| outbox::mark_failed(conn, u1, "503", now, 5, now))
        .unwrap();
    assert!(
        db.store
            .outbox(|conn| outbox::mark_delivered(conn, u2, now))
            .unwrap()
    );
    let second_lease = lease + time::Duration::seconds(1);
    let retried = db
        .store
        .outbox(|conn| outbox::claim(conn, now, second_lease, 10))
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(
        (retried[0].id.as_str(), retried[0].attempts),
        (u1.id.as_str(), 1)
    );
    // The first claim's lease on u1 is gone: its late outcome cannot overwrite the retry's.
    assert!(
        !db.store
            .outbox(|conn| outbox::mark_delivered(conn, u1, now))
            .unwrap()
    );
    assert!(
        db.store
            .outbox(|conn| outbox::mark_delivered(conn, &retried[0], now))
            .unwrap()
    );
    let next = db
        .store
        .outbox(|conn| outbox::claim(conn, now, lease, 10))
        .unwrap();
    assert_eq!(next[0].event_type, "user.updated");
    let stats = db.store.outbox(|conn| outbox::stats(conn, now)).unwrap();
    assert_eq!((stats.pending, stats.dead), (1, 0));
    // Tenant transactions of another workspace see none of these events.
    let other = db.workspace("Globex", Plan::Premium, true);
    assert!(db.store.read(other.id, outbox::list).unwrap().is_empty());
}
