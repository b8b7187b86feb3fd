//! Users: stored with their document, unique names, replaced, deleted, erased, counted.

use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{DomainError, Plan, UserId};
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{migrations, users};

use crate::support::*;

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
        replace(&db, other.id, user.id, &jane(), None)
            .unwrap()
            .is_none()
    );
    assert!(delete(&db, other.id, user.id).unwrap().is_none());
    assert!(
        db.store
            .write(other.id, |tx| users::lock(tx, user.id))
            .unwrap()
            .is_none(),
        "another workspace cannot even lock the user"
    );
    assert!(
        db.store
            .read(ws.id, |tx| users::find(tx, user.id))
            .unwrap()
            .is_some()
    );
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
    let replaced = replace(&db, ws.id, user.id, &inactive, None)
        .unwrap()
        .unwrap();
    assert_eq!(replaced.version, 2);
    assert_eq!(
        replaced.session_version,
        user.session_version + 1,
        "deactivation ends sessions"
    );
    assert!(!replaced.active);
    assert_eq!(replaced.external_id, None);
    assert_eq!(replaced.document["title"], "CTO");
    assert_eq!(replaced.id, user.id);
    assert_eq!(stored_hash(&db, ws.id, user.id).as_deref(), Some("hash-1"));
    let again = replace(&db, ws.id, user.id, &inactive, Some("hash-2"))
        .unwrap()
        .unwrap();
    assert_eq!(stored_hash(&db, ws.id, user.id).as_deref(), Some("hash-2"));
    assert_eq!(
        (again.version, again.session_version),
        (3, replaced.session_version + 1),
        "a new password ends sessions too"
    );
}

#[test]
fn a_replaced_user_is_returned_as_stored_with_its_groups() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let id = user(&db, ws.id, "jane");
    let group = create(&db, ws.id, "Engineering", &[id]);
    let renamed = draft(json!({"userName": "jane.doe", "displayName": "Jane Doe"}));
    let replaced = replace(&db, ws.id, id, &renamed, None).unwrap().unwrap();
    let found = db
        .store
        .read(ws.id, |tx| users::find(tx, id))
        .unwrap()
        .unwrap();
    assert_eq!(replaced, found);
    assert_eq!(replaced.user_name, "jane.doe");
    assert_eq!(replaced.groups.len(), 1);
    assert_eq!(replaced.groups[0].id, group);
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
    let clash = replace(
        &db,
        ws.id,
        bob.id,
        &draft(json!({"userName": "JANE@acme.com"})),
        None,
    );
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
    assert!(delete(&db, ws.id, user.id).unwrap().is_some());
    assert!(delete(&db, ws.id, user.id).unwrap().is_none());
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
    assert_eq!(count_rows(&db, ws.id), 2, "the tombstone stays");
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
    let locked = db
        .store
        .write(ws.id, |tx| {
            webwork_scim_persistence::workspaces::lock(tx)?;
            users::count_active(tx, None)
        })
        .unwrap();
    assert_eq!(locked, 1);
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
fn users_loaded_in_bulk_are_stored_as_one_by_one_inserts_would_store_them() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    // More than one statement's worth of rows.
    let drafts: Vec<_> = (0..1_201)
        .map(|n| {
            draft(json!({
                "userName": format!("user{n}@acme.com"),
                "externalId": format!("ext-{n}"),
                "active": n % 2 == 0,
                "emails": [{"value": format!("User{n}@Acme.com"), "primary": true}],
            }))
        })
        .collect();
    let ids = db
        .store
        .write(ws.id, |tx| users::insert_many(tx, &drafts))
        .unwrap();
    assert_eq!(ids.len(), drafts.len());
    for n in [0, 499, 500, 1_200] {
        let name = webwork_scim_domain::UserName::parse(&format!("USER{n}@acme.com")).unwrap();
        let found = db
            .store
            .read(ws.id, |tx| users::find_by_user_name(tx, &name))
            .unwrap()
            .unwrap();
        assert_eq!(found.id, ids[n]);
        assert_eq!(
            found.external_id.as_deref(),
            Some(format!("ext-{n}").as_str())
        );
        assert_eq!(found.active, n % 2 == 0);
        assert_eq!(found.version, 1);
        assert_eq!(
            found.document["emails"][0]["value"],
            format!("User{n}@Acme.com")
        );
        let elsewhere = db
            .store
            .read(other.id, |tx| users::find(tx, ids[n]))
            .unwrap();
        assert!(elsewhere.is_none(), "another workspace sees a loaded user");
    }
}

#[test]
fn a_bulk_load_with_a_taken_user_name_writes_none_of_its_users() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    db.store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    let drafts = vec![
        draft(json!({"userName": "first@acme.com"})),
        draft(json!({"userName": "JANE@acme.com"})),
    ];
    let loaded = db.store.write(ws.id, |tx| users::insert_many(tx, &drafts));
    assert!(matches!(loaded, Err(StoreError::Conflict)), "{loaded:?}");
    let twice = vec![
        draft(json!({"userName": "twice@acme.com"})),
        draft(json!({"userName": "Twice@acme.com"})),
    ];
    let loaded = db.store.write(ws.id, |tx| users::insert_many(tx, &twice));
    assert!(matches!(loaded, Err(StoreError::Conflict)), "{loaded:?}");
    for name in ["first@acme.com", "twice@acme.com"] {
        let name = webwork_scim_domain::UserName::parse(name).unwrap();
        let found = db
            .store
            .read(ws.id, |tx| users::find_by_user_name(tx, &name))
            .unwrap();
        assert!(found.is_none(), "{name:?} was written by a failed load");
    }
}

#[test]
fn the_database_keeps_each_workspaces_live_user_count_through_every_change() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    let other = db.workspace("Globex", Plan::Premium, true).id;
    let counted = |ws| db.store.read(ws, users::count_live).unwrap();
    // A filter every user matches, so that the listing counts them (without one, its total is
    // the kept count itself).
    let everyone = Filter::parse("userName pr").unwrap();
    let listed = |ws| {
        db.store
            .read(ws, |tx| users::list(tx, all(Some(&everyone))))
            .unwrap()
            .total
    };
    let check = |step: &str| {
        for ws in [ws, other] {
            assert_eq!(counted(ws), listed(ws), "after {step}");
        }
    };
    check("nothing");
    let ann = user(&db, ws, "ann");
    let bob = user(&db, ws, "bob");
    user(&db, other, "ann");
    check("single creates");
    assert_eq!(counted(ws), 2);
    let drafts: Vec<_> = (0..5)
        .map(|n| draft(json!({ "userName": format!("loaded{n}") })))
        .collect();
    db.store
        .write(ws, |tx| users::insert_many(tx, &drafts))
        .unwrap();
    check("a bulk load");
    assert_eq!(counted(ws), 7);
    let renamed = draft(json!({"userName": "ann.smith", "active": false}));
    replace(&db, ws, ann, &renamed, None).unwrap().unwrap();
    check("a replacement");
    delete(&db, ws, ann).unwrap().unwrap();
    check("a deletion");
    db.store.write(ws, |tx| users::erase(tx, ann)).unwrap();
    check("erasing a deleted user");
    db.store.write(ws, |tx| users::erase(tx, bob)).unwrap();
    check("erasing a live user");
    assert_eq!(counted(ws), 5);
    let failed: Result<(), StoreError> = db.store.write(ws, |tx| {
        users::insert(tx, &draft(json!({"userName": "rolled-back"})), None)?;
        Err(StoreError::Domain(DomainError::invalid_value("no")))
    });
    assert!(failed.is_err());
    check("a rolled-back create");
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    db.store
        .write(ws, |tx| users::purge_deleted_before(tx, later))
        .unwrap();
    check("purging tombstones");
    assert_eq!((counted(ws), counted(other)), (5, 1));
}

#[test]
fn the_migration_that_adds_the_count_counts_the_users_already_there() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    let ann = user(&db, ws, "ann");
    user(&db, ws, "bob");
    user(&db, ws, "cy");
    delete(&db, ws, ann).unwrap().unwrap();
    let mut owner = db.owner_url.as_ref().unwrap_or(&db.url).connect().unwrap();
    // Back to before the migration that counts the users and keeps the count (both backends
    // have later ones).
    let mut reverted = Vec::new();
    while reverted
        .last()
        .is_none_or(|version| version != "20261206000003")
    {
        assert!(reverted.len() < 8, "reverted {reverted:?}");
        reverted.push(migrations::revert_last(&mut owner).unwrap());
    }
    migrations::run_pending(&mut owner).unwrap();
    assert_eq!(db.store.read(ws, users::count_live).unwrap(), 2);
}

#[test]
fn a_user_read_alone_has_the_same_groups_in_the_same_order_as_in_a_listing() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let jane = user(&db, ws.id, "jane");
    let loner = user(&db, ws.id, "loner");
    let other = db.workspace("Other", Plan::Premium, true);
    let outsider = user(&db, other.id, "jane");
    create(&db, other.id, "Not Acme's", &[outsider]);
    for name in ["Zeta \"quoted\"", "Álpha \\ back", "日本語 group"] {
        create(&db, ws.id, name, &[jane]);
    }
    let (alone, by_name, listed, lonely) = db
        .store
        .read(ws.id, |tx| {
            let alone = users::find(tx, jane)?.expect("jane");
            let name = webwork_scim_domain::UserName::parse("JANE").unwrap();
            let by_name = users::find_by_user_name(tx, &name)?.expect("jane by name");
            let listed = users::list(tx, all(None))?;
            let lonely = users::find(tx, loner)?.expect("loner");
            Ok::<_, StoreError>((alone, by_name, listed, lonely))
        })
        .unwrap();
    let listed = listed.users.into_iter().find(|u| u.id == jane).unwrap();
    assert_eq!(alone.groups.len(), 3);
    assert_eq!(alone.groups, listed.groups);
    assert_eq!(by_name.groups, listed.groups);
    let ids: Vec<String> = alone.groups.iter().map(|g| g.id.to_string()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "groups ordered by id");
    let mut names: Vec<&str> = alone
        .groups
        .iter()
        .map(|g| g.display_name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Zeta \"quoted\"", "Álpha \\ back", "日本語 group"]);
    assert!(lonely.groups.is_empty());
}
