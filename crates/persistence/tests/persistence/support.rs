//! Fixtures shared by the persistence tests.

use diesel::prelude::*;
use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{GroupChange, GroupDraft, GroupId, User, UserDraft, UserId, WorkspaceId};
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::groups;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users::{self, ListQuery, Replacement};

pub fn draft(body: serde_json::Value) -> UserDraft {
    UserDraft::from_scim(&body).expect("valid user")
}

pub fn jane() -> UserDraft {
    draft(
        json!({"userName": "Jane@Acme.com", "externalId": "00uJane", "name": {"givenName": "Jane"}}),
    )
}

pub fn all(filter: Option<&Filter>) -> ListQuery<'_> {
    ListQuery {
        filter,
        sort: None,
        after: None,
        before: None,
        offset: 0,
        limit: 100,
    }
}

/// Every group (up to 100) that `filter` selects, without their members.
pub fn all_groups(filter: Option<&Filter>) -> groups::GroupQuery<'_> {
    groups::GroupQuery {
        filter,
        sort: None,
        after: None,
        before: None,
        offset: 0,
        limit: 100,
        with_members: false,
        member_budget: i64::MAX,
    }
}

pub fn stored_hash(db: &TestDb, ws: WorkspaceId, id: UserId) -> Option<String> {
    db.store
        .read(ws, |tx| users::password_hash(tx, id))
        .unwrap()
}

/// Replaces user `id` with `draft` as a use case does: locked, then written, in one
/// transaction. `None` when the workspace has no such live user.
pub fn replace(
    db: &TestDb,
    ws: WorkspaceId,
    id: UserId,
    draft: &UserDraft,
    password_hash: Option<&str>,
) -> Result<Option<User>, StoreError> {
    db.store.write(ws, |tx| {
        let Some(current) = users::lock(tx, id)? else {
            return Ok(None);
        };
        let replacement = Replacement {
            draft,
            password_hash,
            session_version: current.sessions_after(draft.active, password_hash.is_some()),
        };
        users::replace(tx, &current, replacement).map(Some)
    })
}

/// Deletes user `id` as a use case does; `None` when there is no such live user.
pub fn delete(
    db: &TestDb,
    ws: WorkspaceId,
    id: UserId,
) -> Result<Option<Vec<GroupId>>, StoreError> {
    db.store.write(ws, |tx| match users::lock(tx, id)? {
        Some(user) => users::delete(tx, &user).map(Some),
        None => Ok(None),
    })
}

/// The raw row count of `users`, tombstones included, read inside the workspace's transaction
/// so that row-level security lets the rows through.
pub fn count_rows(db: &TestDb, workspace: WorkspaceId) -> i64 {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    db.store
        .read(workspace, |tx| {
            diesel::sql_query("SELECT COUNT(*) AS n FROM users")
                .get_result::<Count>(tx.connection())
                .map_err(StoreError::from)
        })
        .unwrap()
        .n
}

pub fn user(db: &TestDb, ws: WorkspaceId, name: &str) -> UserId {
    let draft = UserDraft::from_scim(&json!({"userName": name})).unwrap();
    db.store
        .write(ws, |tx| users::insert(tx, &draft, None))
        .unwrap()
        .id
}

pub fn group_draft(name: &str, members: &[UserId]) -> GroupDraft {
    let members: Vec<_> = members
        .iter()
        .map(|id| json!({"value": id.to_string()}))
        .collect();
    GroupDraft::from_scim(&json!({"displayName": name, "members": members})).unwrap()
}

pub fn create(db: &TestDb, ws: WorkspaceId, name: &str, members: &[UserId]) -> GroupId {
    let draft = group_draft(name, members);
    db.store
        .write(ws, |tx| groups::insert(tx, &draft))
        .unwrap()
        .group
        .id
}

pub fn member_ids(db: &TestDb, ws: WorkspaceId, id: GroupId) -> Vec<UserId> {
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

pub fn apply(
    db: &TestDb,
    ws: WorkspaceId,
    id: GroupId,
    changes: Vec<GroupChange>,
) -> Result<Option<groups::GroupWrite>, StoreError> {
    db.store.write(ws, |tx| groups::apply(tx, id, &changes))
}

pub fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids
}

pub fn member_page_is_empty(db: &TestDb, ws: WorkspaceId, id: GroupId) -> bool {
    db.store
        .read(ws, |tx| groups::members_page(tx, id, 0, 10))
        .unwrap()
        .0
        == 0
}
