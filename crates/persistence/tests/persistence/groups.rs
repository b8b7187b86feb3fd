//! Groups: unique names, membership changes by the ids named, members that must be live users
//! of the same workspace, concurrent changes, deletion.

use webwork_scim_domain::{DomainError, GroupChange, Plan, UserId};
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::groups::{self, GroupQuery};
use webwork_scim_persistence::testing::TestDb;

use crate::support::*;

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
                    sort: None,
                    after: None,
                    before: None,
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
    let left = delete(&db, ws.id, u1).unwrap();
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
