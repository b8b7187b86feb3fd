//! Listing groups: filters, member pages, the member budget of a page, and a membership add
//! racing the user's deletion.

use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{DomainError, GroupChange, GroupDraft, Plan, UserId};
use webwork_scim_persistence::groups::{self, GroupQuery};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{StoreError, users};

use crate::support::*;

#[test]
fn filters_select_groups_by_name_external_id_and_id() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let sales = create(&db, ws.id, "Sales", &[]);
    let draft = GroupDraft::from_scim(&json!({"displayName": "Sales EMEA", "externalId": "ext-1"}))
        .unwrap();
    db.store
        .write(ws.id, |tx| groups::insert(tx, &draft))
        .unwrap();
    let names = |filter: &str| -> Result<Vec<String>, StoreError> {
        let filter = Filter::parse(filter).unwrap();
        let page = db.store.read(ws.id, |tx| {
            groups::list(
                tx,
                GroupQuery {
                    filter: Some(&filter),
                    sort: None,
                    after: None,
                    before: None,
                    offset: 0,
                    limit: 10,
                    with_members: true,
                    member_budget: i64::MAX,
                },
            )
        })?;
        Ok(page.groups.into_iter().map(|g| g.display_name).collect())
    };
    assert_eq!(names(r#"displayName eq "sales""#).unwrap(), vec!["Sales"]);
    assert_eq!(
        names(r#"displayName sw "SALES""#).unwrap(),
        vec!["Sales", "Sales EMEA"]
    );
    assert_eq!(
        names(r#"externalId eq "ext-1""#).unwrap(),
        vec!["Sales EMEA"]
    );
    assert_eq!(
        names(&format!(r#"id eq "{sales}""#)).unwrap(),
        vec!["Sales"]
    );
    assert!(names(r#"displayName eq "Nope""#).unwrap().is_empty());
    assert!(matches!(
        names(r#"members.nosuch eq "x""#),
        Err(StoreError::Domain(DomainError::InvalidFilter(_)))
    ));
}

#[test]
fn member_pages_are_stable_and_counted() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let users: Vec<UserId> = (0..5).map(|i| user(&db, ws.id, &format!("u{i}"))).collect();
    let id = create(&db, ws.id, "Everyone", &users);
    let (total, first) = db
        .store
        .read(ws.id, |tx| groups::members_page(tx, id, 0, 3))
        .unwrap();
    let (_, rest) = db
        .store
        .read(ws.id, |tx| groups::members_page(tx, id, 3, 3))
        .unwrap();
    assert_eq!(total, 5);
    let seen: Vec<UserId> = first.iter().chain(&rest).map(|m| m.user_id).collect();
    assert_eq!(seen, sorted(users));
}

#[test]
fn a_page_of_groups_shows_fewer_groups_rather_than_too_many_members() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let users: Vec<UserId> = (0..4).map(|i| user(&db, ws.id, &format!("u{i}"))).collect();
    for name in ["A", "B", "C"] {
        create(&db, ws.id, name, &users[..2]);
    }
    let page = |budget: i64| {
        db.store
            .read(ws.id, |tx| {
                groups::list(
                    tx,
                    GroupQuery {
                        filter: None,
                        sort: None,
                        after: None,
                        before: None,
                        offset: 0,
                        limit: 10,
                        with_members: true,
                        member_budget: budget,
                    },
                )
            })
            .unwrap()
    };
    let names = |budget| -> Vec<String> {
        page(budget)
            .groups
            .into_iter()
            .map(|g| g.display_name)
            .collect()
    };
    assert_eq!(names(6), ["A", "B", "C"]);
    assert_eq!(names(5), ["A", "B"]);
    assert_eq!(names(1), ["A"], "the first group is always shown");
    assert_eq!(page(1).total, 3, "the total still counts every group");
}

#[test]
fn a_membership_add_racing_the_users_deletion_leaves_no_member_row() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let id = create(&db, ws.id, "Everyone", &[]);
    for round in 0..15 {
        let victim = user(&db, ws.id, &format!("victim{round}"));
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            let (db, start) = (&db, &start);
            scope.spawn(move || {
                start.wait();
                let added = db.store.write(ws.id, |tx| {
                    groups::apply(tx, id, &[GroupChange::AddMembers(vec![victim])])
                });
                // Either the add came first, or it found the user gone.
                assert!(
                    matches!(
                        added,
                        Ok(Some(_)) | Err(StoreError::Domain(DomainError::InvalidValue(_)))
                    ),
                    "{added:?}"
                );
            });
            scope.spawn(move || {
                start.wait();
                db.store
                    .write(ws.id, |tx| match users::lock(tx, victim)? {
                        Some(user) => users::delete(tx, &user).map(Some),
                        None => Ok(None),
                    })
                    .unwrap()
                    .expect("the user existed");
            });
        });
        assert!(
            db.store
                .read(ws.id, |tx| groups::groups_of_user(tx, victim))
                .unwrap()
                .is_empty(),
            "round {round}: a deleted user kept a membership"
        );
    }
}

#[test]
fn memberships_filter_groups_by_member_and_users_by_group() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let jane = user(&db, ws.id, "Jane@Acme.com");
    let bob = user(&db, ws.id, "bob@acme.com");
    let sales = create(&db, ws.id, "Sales", &[jane, bob]);
    create(&db, ws.id, "Admins", &[jane]);
    create(&db, ws.id, "Empty", &[]);
    let groups_named = |text: &str| -> Vec<String> {
        let filter = Filter::parse(text).unwrap();
        let page = db
            .store
            .read(ws.id, |tx| groups::list(tx, all_groups(Some(&filter))))
            .unwrap_or_else(|err| panic!("{text}: {err:?}"));
        page.groups.into_iter().map(|g| g.display_name).collect()
    };
    assert_eq!(
        groups_named(&format!(r#"members.value eq "{bob}""#)),
        ["Sales"]
    );
    assert_eq!(
        groups_named(&format!(r#"members[value eq "{jane}"]"#)),
        ["Sales", "Admins"]
    );
    assert_eq!(
        groups_named(r#"members.display eq "JANE@acme.com""#),
        ["Sales", "Admins"]
    );
    assert_eq!(
        groups_named(r#"members[type eq "User" and display sw "bob"]"#),
        ["Sales"]
    );
    assert_eq!(groups_named("members pr"), ["Sales", "Admins"]);
    assert_eq!(groups_named("not (members pr)"), ["Empty"]);
    assert_eq!(
        groups_named(r#"meta.resourceType eq "Group" and displayName ew "s""#),
        ["Sales", "Admins"]
    );
    let users_named = |text: &str| -> Vec<String> {
        let filter = Filter::parse(text).unwrap();
        let page = db
            .store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))))
            .unwrap_or_else(|err| panic!("{text}: {err:?}"));
        page.users.into_iter().map(|u| u.user_name).collect()
    };
    assert_eq!(
        users_named(&format!(r#"groups.value eq "{sales}""#)),
        ["Jane@Acme.com", "bob@acme.com"]
    );
    assert_eq!(
        users_named(r#"groups[display eq "ADMINS"]"#),
        ["Jane@Acme.com"]
    );
    assert_eq!(
        users_named(r#"groups.display eq "admins" or groups.type ne "direct""#),
        ["Jane@Acme.com"]
    );
    assert!(matches!(
        db.store.read(ws.id, |tx| users::list(
            tx,
            all(Some(&Filter::parse(r#"groups.$ref eq "x""#).unwrap()))
        )),
        Err(StoreError::Domain(DomainError::InvalidFilter(_)))
    ));
}
