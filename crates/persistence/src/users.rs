//! SCIM users of one workspace.
//!
//! The full SCIM document is stored as JSON; the attributes that are filtered on, unique or
//! needed by WebWork's app have columns of their own, written from the same validated draft.

mod filter_sql;

use diesel::prelude::*;
use serde_json::{Map, Value};
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::text::fold_key;
use webwork_scim_domain::{DomainError, GroupId, User, UserDraft, UserId, UserName};

use crate::schema::users;
use crate::{StoreError, TenantTx, clock};

/// One page of a listing, and how many users match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPage {
    pub total: i64,
    pub users: Vec<User>,
}

/// What to list: an optional filter and a window in the stable order (by id, which is
/// time-ordered).
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    pub filter: Option<&'a Filter>,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    user_name: String,
    external_id: Option<String>,
    active: bool,
    display_name: Option<String>,
    document: String,
    version: i64,
    created_at: time::PrimitiveDateTime,
    updated_at: time::PrimitiveDateTime,
    app_roles: String,
    session_version: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<User, StoreError> {
        let document: Map<String, Value> = serde_json::from_str(&row.document)
            .map_err(|err| StoreError::Corrupt(format!("user {} document: {err}", row.id)))?;
        Ok(User {
            id: row
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("user id '{}'", row.id)))?,
            user_name: row.user_name,
            external_id: row.external_id,
            active: row.active,
            display_name: row.display_name,
            document,
            version: row.version,
            created_at: clock::from_db(row.created_at),
            updated_at: clock::from_db(row.updated_at),
            app_roles: serde_json::from_str(&row.app_roles)
                .map_err(|_| StoreError::Corrupt(format!("user {} roles", row.id)))?,
            session_version: row.session_version,
            groups: Vec::new(),
        })
    }
}

/// The live (not deleted) users of the transaction's workspace: every query starts here.
fn scoped(workspace: &str) -> users::BoxedQuery<'static, crate::db::MultiBackend> {
    users::table
        .filter(users::workspace_id.eq(workspace.to_owned()))
        .filter(users::deleted_at.is_null())
        .into_boxed()
}

fn email_key(draft: &UserDraft) -> Option<String> {
    draft.primary_email().map(fold_key)
}

fn document_json(draft: &UserDraft) -> Result<String, StoreError> {
    serde_json::to_string(&draft.document).map_err(|err| StoreError::Corrupt(err.to_string()))
}

/// Stores a new user. A `userName` already live in this workspace (in any case) is
/// [`StoreError::Conflict`].
pub fn insert(
    tx: &mut TenantTx<'_>,
    draft: &UserDraft,
    password_hash: Option<&str>,
) -> Result<User, StoreError> {
    let (conn, workspace) = tx.parts();
    let id = UserId::generate();
    let now = clock::now();
    diesel::insert_into(users::table)
        .values((
            users::workspace_id.eq(workspace.to_string()),
            users::id.eq(id.to_string()),
            users::user_name.eq(draft.user_name.as_str()),
            users::user_name_key.eq(draft.user_name.key()),
            users::external_id.eq(draft.external_id.as_deref()),
            users::active.eq(draft.active),
            users::display_name.eq(draft.display_name.as_deref()),
            users::password_hash.eq(password_hash),
            users::document.eq(document_json(draft)?),
            users::version.eq(1_i64),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::email_key.eq(email_key(draft)),
        ))
        .execute(conn)?;
    find(tx, id)?.ok_or_else(|| StoreError::Corrupt("user vanished after insert".into()))
}

/// The live user `id` of this workspace; `None` for unknown, deleted, or another workspace's ids.
pub fn find(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<User>, StoreError> {
    let workspace = tx.workspace().to_string();
    let Some(mut user) = scoped(&workspace)
        .filter(users::id.eq(id.to_string()))
        .select(UserRow::as_select())
        .first::<UserRow>(tx.conn())
        .optional()?
        .map(User::try_from)
        .transpose()?
    else {
        return Ok(None);
    };
    with_groups(tx, std::slice::from_mut(&mut user))?;
    Ok(Some(user))
}

/// Fills in the groups of `users` with one query.
fn with_groups(tx: &mut TenantTx<'_>, users: &mut [User]) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    let ids: Vec<UserId> = users.iter().map(|user| user.id).collect();
    let mut memberships = crate::groups::memberships_of(tx, &ids)?;
    for user in users {
        user.groups = memberships.remove(&user.id).unwrap_or_default();
    }
    Ok(())
}

/// The stored password hash of user `id`, for credential checks.
pub fn password_hash(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<String>, StoreError> {
    let workspace = tx.workspace().to_string();
    Ok(scoped(&workspace)
        .filter(users::id.eq(id.to_string()))
        .select(users::password_hash)
        .first::<Option<String>>(tx.conn())
        .optional()?
        .flatten())
}

/// A page of users matching the query, and the total count. A filter the database cannot answer
/// is [`DomainError::UnsupportedFilter`], never a silent full listing.
pub fn list(tx: &mut TenantTx<'_>, query: ListQuery<'_>) -> Result<UserPage, StoreError> {
    let workspace = tx.workspace().to_string();
    let filtered = |workspace: &str| -> Result<_, DomainError> {
        let base = scoped(workspace);
        Ok(match query.filter {
            Some(filter) => base.filter(filter_sql::condition(filter)?),
            None => base,
        })
    };
    if query.filter.is_some_and(filter_sql::needs_row_check) {
        return list_checked(tx, query, filtered(&workspace)?);
    }
    let total: i64 = filtered(&workspace)?.count().get_result(tx.conn())?;
    if query.limit <= 0 || query.offset >= total {
        return Ok(UserPage {
            total,
            users: Vec::new(),
        });
    }
    let mut users: Vec<User> = filtered(&workspace)?
        .order(users::id)
        .offset(query.offset)
        .limit(query.limit)
        .select(UserRow::as_select())
        .load::<UserRow>(tx.conn())?
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    with_groups(tx, &mut users)?;
    Ok(UserPage { total, users })
}

/// The most rows an inexact filter may narrow to before each is checked; an email look-up
/// narrows to one or two.
const MAX_CHECKED_ROWS: i64 = 10_000;

/// The user as a filter sees it: its document, `id` and `meta`'s times.
fn resource(user: &User) -> Value {
    let time = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .map_or(Value::Null, Value::String)
    };
    let mut resource = user.document.clone();
    resource.insert("id".into(), Value::String(user.id.to_string()));
    resource.insert(
        "meta".into(),
        serde_json::json!({"created": time(user.created_at), "lastModified": time(user.updated_at)}),
    );
    Value::Object(resource)
}

/// Lists through an inexact SQL condition: loads the narrowed rows, keeps those the filter
/// matches, then pages in memory.
fn list_checked(
    tx: &mut TenantTx<'_>,
    query: ListQuery<'_>,
    narrowed: users::BoxedQuery<'static, crate::db::MultiBackend>,
) -> Result<UserPage, StoreError> {
    let candidates: Vec<User> = narrowed
        .order(users::id)
        .limit(MAX_CHECKED_ROWS + 1)
        .select(UserRow::as_select())
        .load::<UserRow>(tx.conn())?
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    if candidates.len() > usize::try_from(MAX_CHECKED_ROWS).unwrap_or(usize::MAX) {
        return Err(DomainError::TooMany(format!(
            "the filter selects more than {MAX_CHECKED_ROWS} users to check; narrow it"
        ))
        .into());
    }
    let matching: Vec<User> = candidates
        .into_iter()
        .filter(|user| {
            query
                .filter
                .is_none_or(|filter| webwork_scim_domain::filter::matches(filter, &resource(user)))
        })
        .collect();
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(query.limit.max(0)).unwrap_or(0);
    let mut users: Vec<User> = matching.into_iter().skip(offset).take(limit).collect();
    with_groups(tx, &mut users)?;
    Ok(UserPage { total, users })
}

/// Replaces user `id` with `draft`. `password_hash: None` keeps the stored password. With
/// `expected_version`, a user changed since that version is [`StoreError::Concurrent`].
/// `None` when there is no such live user.
pub fn replace(
    tx: &mut TenantTx<'_>,
    id: UserId,
    draft: &UserDraft,
    password_hash: Option<&str>,
    expected_version: Option<i64>,
) -> Result<Option<User>, StoreError> {
    let workspace = tx.workspace().to_string();
    let Some((current, was_active, sessions)) = scoped(&workspace)
        .filter(users::id.eq(id.to_string()))
        .select((users::version, users::active, users::session_version))
        .first::<(i64, bool, i64)>(tx.conn())
        .optional()?
    else {
        return Ok(None);
    };
    if expected_version.is_some_and(|expected| expected != current) {
        return Err(StoreError::Concurrent);
    }
    let changes = UserChanges {
        user_name: draft.user_name.as_str(),
        user_name_key: draft.user_name.key(),
        external_id: draft.external_id.as_deref(),
        active: draft.active,
        display_name: draft.display_name.as_deref(),
        password_hash,
        document: document_json(draft)?,
        version: current + 1,
        updated_at: clock::now(),
        email_key: email_key(draft),
        // Sessions end when the user is deactivated or gets a new password.
        session_version: if (was_active && !draft.active) || password_hash.is_some() {
            sessions + 1
        } else {
            sessions
        },
    };
    let updated = diesel::update(
        users::table
            .filter(users::workspace_id.eq(&workspace))
            .filter(users::id.eq(id.to_string()))
            .filter(users::version.eq(current)),
    )
    .set(&changes)
    .execute(tx.conn())?;
    if updated == 0 {
        return Err(StoreError::Concurrent);
    }
    find(tx, id)
}

#[derive(AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserChanges<'a> {
    user_name: &'a str,
    user_name_key: &'a str,
    external_id: Option<&'a str>,
    active: bool,
    display_name: Option<&'a str>,
    #[diesel(treat_none_as_null = false)]
    password_hash: Option<&'a str>,
    document: String,
    version: i64,
    updated_at: time::PrimitiveDateTime,
    email_key: Option<String>,
    session_version: i64,
}

/// Deletes user `id`: gone from SCIM and from every group at once, its `userName` free again;
/// the row stays as a tombstone. Returns the groups it left, or `None` when there is no such
/// live user.
pub fn delete(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<Vec<GroupId>>, StoreError> {
    let (conn, workspace) = tx.parts();
    let deleted = diesel::update(
        users::table
            .filter(users::workspace_id.eq(workspace.to_string()))
            .filter(users::id.eq(id.to_string()))
            .filter(users::deleted_at.is_null()),
    )
    .set((
        users::deleted_at.eq(clock::now()),
        users::version.eq(users::version + 1),
        users::session_version.eq(users::session_version + 1),
    ))
    .execute(conn)?;
    // After the user's row is locked by the update, so that a concurrent membership add (which
    // holds that row shared) has either committed its rows here or will find the user gone.
    if deleted == 0 {
        return Ok(None);
    }
    crate::groups::remove_user_everywhere(tx, id).map(Some)
}

/// Live users that are active, other than `except`.
pub fn count_active(tx: &mut TenantTx<'_>, except: Option<UserId>) -> Result<i64, StoreError> {
    let workspace = tx.workspace().to_string();
    let mut query = scoped(&workspace).filter(users::active.eq(true));
    if let Some(id) = except {
        query = query.filter(users::id.ne(id.to_string()));
    }
    Ok(query.count().get_result(tx.conn())?)
}

/// Holds the workspace's row lock until the transaction ends, so that seat counts taken after it
/// cannot race with another transaction's.
pub fn lock_workspace(tx: &mut TenantTx<'_>) -> Result<(), StoreError> {
    let (conn, workspace) = tx.parts();
    crate::workspaces::lock(conn, workspace)
}

/// Erases a user's personal data on request: the user leaves every group, and the row stays as a
/// deleted tombstone with a placeholder name, no attributes, no external id and no password. `false` when the workspace
/// has no such user, live or deleted.
pub fn erase(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<Vec<GroupId>>, StoreError> {
    let (conn, workspace) = tx.parts();
    let placeholder = format!("erased-{id}");
    let document = serde_json::json!({"userName": placeholder, "active": false}).to_string();
    let now = clock::now();
    let this_user = || {
        users::table
            .filter(users::workspace_id.eq(workspace.to_string()))
            .filter(users::id.eq(id.to_string()))
    };
    diesel::update(this_user().filter(users::deleted_at.is_null()))
        .set(users::deleted_at.eq(now))
        .execute(conn)?;
    let erased = diesel::update(this_user())
        .set((
            users::user_name.eq(&placeholder),
            users::user_name_key.eq(&placeholder),
            users::external_id.eq(None::<String>),
            users::display_name.eq(None::<String>),
            users::password_hash.eq(None::<String>),
            users::active.eq(false),
            users::email_key.eq(None::<String>),
            users::document.eq(document),
            users::version.eq(users::version + 1),
            users::session_version.eq(users::session_version + 1),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if erased == 0 {
        return Ok(None);
    }
    crate::groups::remove_user_everywhere(tx, id).map(Some)
}

/// Removes tombstones of users deleted before `before`.
pub fn purge_deleted_before(
    tx: &mut TenantTx<'_>,
    before: time::OffsetDateTime,
) -> Result<usize, StoreError> {
    let (conn, workspace) = tx.parts();
    Ok(diesel::delete(
        users::table
            .filter(users::workspace_id.eq(workspace.to_string()))
            .filter(users::deleted_at.lt(clock::to_db(before))),
    )
    .execute(conn)?)
}

/// The live user whose `userName` folds to the same key as `name`.
pub fn find_by_user_name(
    tx: &mut TenantTx<'_>,
    name: &UserName,
) -> Result<Option<User>, StoreError> {
    let workspace = tx.workspace().to_string();
    let Some(mut user) = scoped(&workspace)
        .filter(users::user_name_key.eq(name.key().to_owned()))
        .select(UserRow::as_select())
        .first::<UserRow>(tx.conn())
        .optional()?
        .map(User::try_from)
        .transpose()?
    else {
        return Ok(None);
    };
    with_groups(tx, std::slice::from_mut(&mut user))?;
    Ok(Some(user))
}

/// Sets the user's roles in WebWork.
pub fn set_app_roles(
    tx: &mut TenantTx<'_>,
    id: UserId,
    roles: &[String],
) -> Result<bool, StoreError> {
    let roles = serde_json::to_string(roles).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let (conn, workspace) = tx.parts();
    let updated = diesel::update(
        users::table
            .filter(users::workspace_id.eq(workspace.to_string()))
            .filter(users::id.eq(id.to_string()))
            .filter(users::deleted_at.is_null()),
    )
    .set((
        users::app_roles.eq(roles),
        users::version.eq(users::version + 1),
        users::updated_at.eq(clock::now()),
    ))
    .execute(conn)?;
    Ok(updated > 0)
}

/// User `id` of this workspace, deleted or not (tombstones included).
pub fn find_any(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<User>, StoreError> {
    let (conn, workspace) = tx.parts();
    users::table
        .filter(users::workspace_id.eq(workspace.to_string()))
        .filter(users::id.eq(id.to_string()))
        .select(UserRow::as_select())
        .first::<UserRow>(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}
