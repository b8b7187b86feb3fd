//! Listing users through SCIM filters translated to SQL, and pages.

use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::schema::ENTERPRISE_USER;
use webwork_scim_domain::{DomainError, Plan};
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users::{self, ListQuery};

use crate::support::*;

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
        (r#"active eq "False""#, vec!["bob_o%hara@acme.com"]),
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
fn filters_that_cannot_mean_anything_are_invalid() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    for text in [
        r#"nosuch eq "x""#,
        r#"urn:example:custom:User:tier eq "x""#,
        r#"name.nosuch eq "x""#,
        r#"title eq true"#,
        r#"userName gt null"#,
        r#"active gt true"#,
        r#"active eq "maybe""#,
        r#"name eq "x""#,
        r#"password eq "secret""#,
        r#"meta.version eq "W/\"1\"""#,
        r#"meta.lastModified co "2020""#,
        r#"meta.lastModified gt "yesterday""#,
        r#"members.value eq "x""#,
        r#"userName[value eq "x"]"#,
        r#"emails[nosuch eq "x"]"#,
    ] {
        let filter = Filter::parse(text).unwrap();
        let result = db
            .store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))));
        assert!(
            matches!(
                result,
                Err(StoreError::Domain(DomainError::InvalidFilter(_)))
            ),
            "{text}: {result:?}"
        );
    }
}

/// Jane with a name, two emails, a phone, a role and the Enterprise extension; Bob with fewer;
/// Carol inactive with nothing else.
fn seed_three_users(db: &TestDb, ws: webwork_scim_domain::WorkspaceId) {
    let insert = |body: serde_json::Value| {
        db.store
            .write(ws, |tx| users::insert(tx, &draft(body), None))
            .unwrap()
    };
    insert(json!({
        "userName": "jane", "title": "Engineer", "name": {"familyName": "Straße", "givenName": "Jane"},
        "emails": [
            {"value": "jane@acme.com", "type": "work", "primary": true},
            {"value": "Jane@Home.example", "type": "home"}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
        "roles": [{"value": "admin", "primary": true}],
        ENTERPRISE_USER: {"department": "R&D", "manager": {"value": "boss-1"}},
    }));
    insert(json!({
        "userName": "bob", "title": "engineer", "name": {"familyName": "Doe"},
        "emails": [{"value": "bob@acme.com", "type": "work"}],
        ENTERPRISE_USER: {"department": "Sales"},
    }));
    insert(json!({"userName": "carol", "active": false}));
}

#[test]
fn every_attribute_filters_in_the_database() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    seed_three_users(&db, ws.id);
    let names = |text: &str| -> Vec<String> {
        let filter = Filter::parse(text).unwrap();
        let page = db
            .store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))))
            .unwrap_or_else(|err| panic!("{text}: {err:?}"));
        page.users.into_iter().map(|u| u.user_name).collect()
    };
    let cases: &[(&str, &[&str])] = &[
        (r#"name.familyName eq "STRASSE""#, &["jane"]),
        (r#"name.familyName pr"#, &["jane", "bob"]),
        (r#"not (name.familyName pr)"#, &["carol"]),
        (r#"emails.value eq "jane@home.example""#, &["jane"]),
        (r#"emails.value ew "@acme.com""#, &["jane", "bob"]),
        (
            r#"emails[type eq "work" and value co "@acme.com"]"#,
            &["jane", "bob"],
        ),
        (r#"emails[type eq "home" and value co "@acme.com"]"#, &[]),
        (r#"emails[primary eq "True"]"#, &["jane"]),
        (r#"emails.primary eq true"#, &["jane"]),
        (r#"phoneNumbers.value sw "+1""#, &["jane"]),
        (r#"roles[value eq "ADMIN" and primary eq true]"#, &["jane"]),
        (r#"title eq "ENGINEER""#, &["jane", "bob"]),
        (r#"title gt "d""#, &["jane", "bob"]),
        (r#"userName gt "bob" and userName lt "jane""#, &["carol"]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#,
            &["jane"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "boss-1""#,
            &["jane"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "BOB""#,
            &["bob"],
        ),
        (r#"name[givenName eq "jane"]"#, &["jane"]),
        (r#"name[givenName ne "jane"]"#, &["bob"]),
        (r#"title ne "engineer""#, &["carol"]),
        // `and` binds tighter than `or`; parentheses change it.
        (
            r#"userName eq "carol" or userName eq "bob" and title pr"#,
            &["bob", "carol"],
        ),
        (
            r#"(userName eq "carol" or userName eq "bob") and title pr"#,
            &["bob"],
        ),
        (
            r#"meta.resourceType eq "User" and active eq false"#,
            &["carol"],
        ),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &["jane", "bob", "carol"],
        ),
        (r#"groups pr"#, &[]),
        (r#"title eq null"#, &["carol"]),
        (r#"title ne null"#, &["jane", "bob"]),
    ];
    for (text, expected) in cases {
        assert_eq!(names(text), *expected, "{text}");
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
                        sort: None,
                        after: None,
                        before: None,
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
                    sort: None,
                    after: None,
                    before: None,
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
                    sort: None,
                    after: None,
                    before: None,
                    offset: 0,
                    limit: 0,
                },
            )
        })
        .unwrap();
    assert_eq!((none.total, none.users.len()), (7, 0));
}

#[test]
fn a_user_name_look_up_counts_what_it_finds_at_any_start_index() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    let stored = db
        .store
        .write(ws.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    db.store
        .write(other.id, |tx| users::insert(tx, &jane(), None))
        .unwrap();
    let list = |filter: &str, offset: i64, limit: i64| {
        let filter = Filter::parse(filter).unwrap();
        let query = ListQuery {
            offset,
            limit,
            ..all(Some(&filter))
        };
        db.store.read(ws.id, |tx| users::list(tx, query)).unwrap()
    };
    let found = list(r#"userName eq "JANE@acme.com""#, 0, 100);
    assert_eq!(found.total, 1);
    assert_eq!(found.users.len(), 1);
    assert_eq!(found.users[0].id, stored.id);
    let past = list(r#"userName eq "jane@acme.com""#, 1, 100);
    assert_eq!(
        (past.total, past.users.len()),
        (1, 0),
        "startIndex=2 still counts Jane"
    );
    let none = list(r#"userName eq "joe@acme.com""#, 0, 100);
    assert_eq!((none.total, none.users.len()), (0, 0));
    let counted = list(r#"userName eq "jane@acme.com""#, 0, 0);
    assert_eq!(
        (counted.total, counted.users.len()),
        (1, 0),
        "count=0 counts"
    );
    let narrowed = list(r#"userName eq "jane@acme.com" and active eq false"#, 0, 100);
    assert_eq!((narrowed.total, narrowed.users.len()), (0, 0));
}
