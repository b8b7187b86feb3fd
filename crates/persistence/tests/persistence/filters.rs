//! Listing users through SCIM filters translated to SQL, and pages.

use serde_json::json;
use webwork_scim_domain::filter::Filter;
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
fn row_checked_filters_page_through_many_matches_in_chunks() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let mut ids = Vec::new();
    for n in 0..250 {
        let body = json!({"userName": format!("u{n:03}@acme.com"), "active": n % 2 == 0});
        let user = db
            .store
            .write(ws.id, |tx| users::insert(tx, &draft(body), None))
            .unwrap();
        ids.push((user.id, n));
    }
    ids.sort();
    // The value path makes the SQL only narrow (to every user here): each row is checked.
    let filter = Filter::parse(
        r#"emails[type eq "work" and value eq "nobody@acme.com"] or (userName sw "u" and active eq true)"#,
    )
    .unwrap();
    let even: Vec<_> = ids
        .iter()
        .filter(|(_, n)| n % 2 == 0)
        .map(|(id, _)| *id)
        .collect();
    let page = db
        .store
        .read(ws.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: Some(&filter),
                    sort: None,
                    after: None,
                    before: None,
                    offset: 100,
                    limit: 20,
                },
            )
        })
        .unwrap();
    assert_eq!(page.total, 125);
    let got: Vec<_> = page.users.iter().map(|u| u.id).collect();
    assert_eq!(got, even[100..120]);
    let tail = db
        .store
        .read(ws.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: Some(&filter),
                    sort: None,
                    after: None,
                    before: None,
                    offset: 120,
                    limit: 20,
                },
            )
        })
        .unwrap();
    assert_eq!(tail.users.len(), 5);
}
