//! Group repository tests against a real database: SQLite by default, PostgreSQL with
//! `TEST_BACKEND=postgres`.

// Test fixtures fail the test at once, hence unwrap and expect outside `#[test]` functions too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{
    DomainError, GroupChange, GroupDraft, GroupId, Plan, UserDraft, UserId, WorkspaceId,
};
use webwork_scim_persistence::groups::{self, GroupQuery};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{StoreError, users};

fn user(db: &TestDb, ws: WorkspaceId, name: &str) -> UserId {
    let draft = UserDraft::from_scim(&json!({"userName": name})).unwrap();
    db.store
        .write(ws, |tx| users::insert(tx, &draft, None))
        .unwrap()
        .id
}

fn group_draft(name: &str, members: &[UserId]) -> GroupDraft {
    let members: Vec<_> = members
        .iter()
        .map(|id| json!({"value": id.to_string()}))
        .collect();
    GroupDraft::from_scim(&json!({"displayName": name, "members": members})).unwrap()
}

fn create(db: &TestDb, ws: WorkspaceId, name: &str, members: &[UserId]) -> GroupId {
    let draft = group_draft(name, members);
    db.store
        .write(ws, |tx| groups::insert(tx, &draft))
        .unwrap()
        .group
        .id
}

fn member_ids(db: &TestDb, ws: WorkspaceId, id: GroupId) -> Vec<UserId> {
    let group = db
        .store
        .read(ws, |tx| groups::find(tx, id, true))
        .unwrap()
        .expect("group exists");
    let mut ids: Vec<UserId> = group
        .members
        .unwrap()
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    ids.sort();
    ids
}

fn apply(
    db: &TestDb,
    ws: WorkspaceId,
    id: GroupId,
    changes: Vec<GroupChange>,
) -> Result<Option<groups::GroupWrite>, StoreError> {
    db.store.write(ws, |tx| groups::apply(tx, id, &changes))
}

fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids
}

#[test]
fn display_names_are_unique_per_workspace_ignoring_case() {
    let db = TestDb::new();
    let a = db.workspace("Acme", Plan::Premium, true);
    let b = db.workspace("Globex", Plan::Premium, true);
    create(&db, a.id, "Sales", &[]);
    let again = group_draft("SALES", &[]);
    assert!(matches!(
        db.store.write(a.id, |tx| groups::insert(tx, &again)),
        Err(StoreError::Conflict)
    ));
    create(&db, b.id, "Sales", &[]);
    let other = create(&db, a.id, "Support", &[]);
    let rename = vec![GroupChange::DisplayName(
        webwork_scim_domain::GroupName::parse("sales").unwrap(),
    )];
    assert!(matches!(
        apply(&db, a.id, other, rename),
        Err(StoreError::Conflict)
    ));
}

#[test]
fn membership_changes_touch_only_the_named_members_and_report_them() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let [u1, u2, u3] = ["u1", "u2", "u3"].map(|name| user(&db, ws.id, name));
    let id = create(&db, ws.id, "Sales", &[u1, u2]);
    assert_eq!(member_ids(&db, ws.id, id), sorted(vec![u1, u2]));

    let write = apply(
        &db,
        ws.id,
        id,
        vec![
            GroupChange::RemoveMembers(vec![u1, UserId::generate()]),
            GroupChange::AddMembers(vec![u3, u2]),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!((write.added, write.removed), (vec![u3], vec![u1]));
    assert_eq!(write.attributes, vec!["members"]);
    assert_eq!(write.group.version, 2);
    assert_eq!(member_ids(&db, ws.id, id), sorted(vec![u2, u3]));

    let unchanged = apply(&db, ws.id, id, vec![GroupChange::AddMembers(vec![u2])])
        .unwrap()
        .unwrap();
    assert!(!unchanged.changed());
    assert_eq!(unchanged.group.version, 2, "a no-op moves no version");

    let replaced = apply(&db, ws.id, id, vec![GroupChange::ReplaceMembers(vec![u1])])
        .unwrap()
        .unwrap();
    assert_eq!(replaced.added, vec![u1]);
    assert_eq!(sorted(replaced.removed), sorted(vec![u2, u3]));
    let emptied = apply(&db, ws.id, id, vec![GroupChange::RemoveAllMembers])
        .unwrap()
        .unwrap();
    assert_eq!(emptied.removed, vec![u1]);
    assert!(member_ids(&db, ws.id, id).is_empty());
}

#[test]
fn members_must_be_live_users_of_the_same_workspace_or_nothing_is_written() {
    let db = TestDb::new();
    let a = db.workspace("Acme", Plan::Premium, true);
    let b = db.workspace("Globex", Plan::Premium, true);
    let mine = user(&db, a.id, "mine");
    let theirs = user(&db, b.id, "theirs");
    let id = create(&db, a.id, "Sales", &[]);
    for stranger in [theirs, UserId::generate()] {
        let err = apply(
            &db,
            a.id,
            id,
            vec![GroupChange::AddMembers(vec![mine, stranger])],
        )
        .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(DomainError::InvalidValue(detail)) if detail.contains(&stranger.to_string())),
            "{err}"
        );
    }
    assert!(
        member_ids(&db, a.id, id).is_empty(),
        "the valid member was rolled back too"
    );
    let draft = group_draft("Ops", &[theirs]);
    assert!(
        db.store
            .write(a.id, |tx| groups::insert(tx, &draft))
            .is_err()
    );
    assert_eq!(
        db.store
            .read(a.id, |tx| groups::list(
                tx,
                GroupQuery {
                    filter: None,
                    offset: 0,
                    limit: 10,
                    with_members: false,
                    member_budget: i64::MAX
                }
            ))
            .unwrap()
            .total,
        1,
        "the refused group was not stored"
    );
    assert!(
        db.store
            .read(b.id, |tx| groups::find(tx, id, false))
            .unwrap()
            .is_none(),
        "another workspace cannot see the group"
    );
}

#[test]
fn concurrent_membership_changes_lose_no_member() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let users: Vec<UserId> = (0..40)
        .map(|i| user(&db, ws.id, &format!("u{i}")))
        .collect();
    let id = create(&db, ws.id, "Everyone", &[]);
    std::thread::scope(|scope| {
        for chunk in users.chunks(10) {
            let db = &db;
            scope.spawn(move || {
                for member in chunk {
                    db.store
                        .write(ws.id, |tx| {
                            groups::apply(tx, id, &[GroupChange::AddMembers(vec![*member])])
                        })
                        .expect("add under contention");
                }
            });
        }
    });
    assert_eq!(member_ids(&db, ws.id, id), sorted(users.clone()));
    let group = db
        .store
        .read(ws.id, |tx| groups::find(tx, id, false))
        .unwrap()
        .unwrap();
    assert_eq!(group.version, 41, "every add moved the version once");
    assert_eq!(
        group.members, None,
        "members are not loaded unless asked for"
    );
}

#[test]
fn deleted_users_leave_their_groups_and_deleted_groups_free_their_name() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let [u1, u2] = ["u1", "u2"].map(|name| user(&db, ws.id, name));
    let id = create(&db, ws.id, "Sales", &[u1, u2]);
    let left = db.store.write(ws.id, |tx| users::delete(tx, u1)).unwrap();
    assert_eq!(left, Some(vec![id]), "the groups it left are reported");
    assert_eq!(member_ids(&db, ws.id, id), vec![u2]);
    assert!(
        db.store
            .read(ws.id, |tx| groups::groups_of_user(tx, u1))
            .unwrap()
            .is_empty(),
        "no member row of the deleted user is left"
    );
    let groups_of = db
        .store
        .read(ws.id, |tx| groups::groups_of_user(tx, u2))
        .unwrap();
    assert_eq!(groups_of, vec![(id, "Sales".to_owned())]);
    let gone = db
        .store
        .write(ws.id, |tx| groups::delete(tx, id))
        .unwrap()
        .unwrap();
    assert_eq!(gone.display_name, "Sales");
    assert!(member_page_is_empty(&db, ws.id, id));
    assert!(
        db.store
            .write(ws.id, |tx| groups::delete(tx, id))
            .unwrap()
            .is_none()
    );
    create(&db, ws.id, "sales", &[u2]);
}

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
        names(r#"members.value eq "x""#),
        Err(StoreError::Domain(DomainError::UnsupportedFilter(_)))
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

fn member_page_is_empty(db: &TestDb, ws: WorkspaceId, id: GroupId) -> bool {
    db.store
        .read(ws, |tx| groups::members_page(tx, id, 0, 10))
        .unwrap()
        .0
        == 0
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
                    .write(ws.id, |tx| users::delete(tx, victim))
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
