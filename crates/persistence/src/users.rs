//! SCIM users of one workspace.
//!
//! The full SCIM document is stored as JSON; the attributes that are filtered on, unique or
//! needed by WebWork's app have columns of their own, written from the same validated draft.

mod filter_sql;
mod groups_json;
mod list;
mod load;
mod page_starts;
mod refold;
mod self_scoped;

use diesel::prelude::*;
use serde_json::{Map, Value};
use webwork_scim_domain::text::fold_key;
use webwork_scim_domain::user::folded_document;
use webwork_scim_domain::{DocumentText, GroupId, GroupRef, User, UserDraft, UserId, UserName};

pub use list::{ListQuery, UserPage, list, list_as_text};
pub use load::insert_many;
pub(crate) use page_starts::PageStarts;
pub use refold::{any_stale, refold_stale};

use crate::inserts::insert_row_returning;
use crate::one_read::{OneRead, Way};
use crate::schema::users;
use crate::scope::LockMode;
use crate::{DbConnection, StoreError, TenantTx, clock};
use groups_json::GroupsJson;

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

/// How a read user's document comes out of its row: built into a map of its attributes, or
/// kept as the text the row holds ([`DocumentText`], for a user read only to be rendered).
pub trait StoredDocument: Sized {
    fn from_row(user: &str, text: String) -> Result<Self, StoreError>;
}

impl StoredDocument for Map<String, Value> {
    fn from_row(user: &str, text: String) -> Result<Self, StoreError> {
        serde_json::from_str(&text)
            .map_err(|err| StoreError::Corrupt(format!("user {user} document: {err}")))
    }
}

impl StoredDocument for DocumentText {
    fn from_row(_: &str, text: String) -> Result<Self, StoreError> {
        Ok(DocumentText::new(text))
    }
}

impl<D: StoredDocument> TryFrom<UserRow> for User<D> {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<User<D>, StoreError> {
        let document = D::from_row(&row.id, row.document)?;
        Ok(User {
            id: parse_id(&row.id)?,
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

fn parse_id(raw: &str) -> Result<UserId, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("user id '{raw}'")))
}

fn email_key(draft: &UserDraft) -> Option<String> {
    draft.primary_email().map(fold_key)
}

fn document_json(draft: &UserDraft) -> Result<String, StoreError> {
    serde_json::to_string(&draft.document).map_err(|err| StoreError::Corrupt(err.to_string()))
}

fn folded_json(document: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(&folded_document(document))
        .map_err(|err| StoreError::Corrupt(err.to_string()))
}

/// Stores a new user. A `userName` already live in this workspace (in any case) is
/// [`StoreError::Conflict`].
pub fn insert(
    tx: &mut TenantTx<'_>,
    draft: &UserDraft,
    password_hash: Option<&str>,
) -> Result<User, StoreError> {
    let id = UserId::generate();
    let now = clock::now();
    // A user just created belongs to no group yet: the row as stored is the whole user.
    let row: UserRow = insert_row_returning!(
        tx,
        users,
        (
            users::id.eq(id.to_string()),
            users::user_name.eq(draft.user_name.as_str()),
            users::user_name_key.eq(draft.user_name.key()),
            users::external_id.eq(draft.external_id.as_deref()),
            users::active.eq(draft.active),
            users::display_name.eq(draft.display_name.as_deref()),
            users::password_hash.eq(password_hash),
            users::document.eq(document_json(draft)?),
            users::folded_document.eq(folded_json(&draft.document)?),
            users::folded_version.eq(1_i64),
            users::version.eq(1_i64),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::email_key.eq(email_key(draft)),
        ),
        crate::scope::columns::<UserRow>(),
    )?;
    User::try_from(row)
}

/// The live user `id` of this workspace; `None` for unknown, deleted, or another workspace's ids.
pub fn find(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<User>, StoreError> {
    by_id(tx, id.to_string())
}

/// The live user whose id is stored as `id`.
fn by_id<D: StoredDocument>(
    tx: &mut TenantTx<'_>,
    id: String,
) -> Result<Option<User<D>>, StoreError> {
    let query = tx.live_users().refine(|q| {
        q.filter(users::id.eq(id))
            .select((crate::scope::columns::<UserRow>(), GroupsJson))
    });
    one_with_groups(tx, query)
}

/// The live user `id`, locked until the transaction ends: a change reads, checks and writes
/// the user while no other change of it can run (PostgreSQL `FOR UPDATE`; SQLite's writing
/// transactions run one at a time).
pub fn lock(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<User>, StoreError> {
    let query = tx.live_users().refine(|q| {
        q.filter(users::id.eq(id.to_string()))
            .select(crate::scope::columns::<UserRow>())
    });
    // Read and locked by one statement. Should a concurrent change hold the row, PostgreSQL
    // reads it again once that change has committed, and a user it deleted is then not found.
    // Its groups are read after the lock, not by the same statement, whose snapshot would
    // miss a membership committed while it waited for the row.
    let row = tx.run_per_backend(query, |query, conn| match conn {
        DbConnection::Postgres(pg) => query.for_update().first::<UserRow>(pg).optional(),
        DbConnection::Sqlite(lite) => query.first::<UserRow>(lite).optional(),
    })?;
    let Some(mut user) = row.map(User::try_from).transpose()? else {
        return Ok(None);
    };
    user.groups = crate::groups::groups_of_user(tx, user.id)?
        .into_iter()
        .map(|(id, display_name)| GroupRef { id, display_name })
        .collect();
    Ok(Some(user))
}

/// The live user whose `userName` folds to the same key as `name`.
pub fn find_by_user_name(
    tx: &mut TenantTx<'_>,
    name: &UserName,
) -> Result<Option<User>, StoreError> {
    by_user_name_key(tx, name.key().to_owned())
}

/// The live user whose `userName` is stored under `key` (see [`UserName::key`]).
fn by_user_name_key<D: StoredDocument>(
    tx: &mut TenantTx<'_>,
    key: String,
) -> Result<Option<User<D>>, StoreError> {
    let query = tx.live_users().refine(|q| {
        q.filter(users::user_name_key.eq(key))
            .select((crate::scope::columns::<UserRow>(), GroupsJson))
    });
    one_with_groups(tx, query)
}

/// The one user the query selects, with its groups read by the same statement.
fn one_with_groups<D: StoredDocument, Q>(
    tx: &mut TenantTx<'_>,
    query: crate::scope::Scoped<Q>,
) -> Result<Option<User<D>>, StoreError>
where
    Q: RunQueryDsl<diesel::PgConnection>
        + RunQueryDsl<diesel::SqliteConnection>
        + diesel::query_dsl::methods::LimitDsl,
    diesel::dsl::Limit<Q>: diesel::query_dsl::LoadQuery<'static, diesel::PgConnection, (UserRow, String)>
        + diesel::query_dsl::LoadQuery<'static, diesel::SqliteConnection, (UserRow, String)>,
{
    tx.first::<(UserRow, String), _>(query)?
        .map(with_its_groups)
        .transpose()
}

/// A user read with its groups (as [`GroupsJson`] writes them).
fn with_its_groups<D: StoredDocument>(
    (row, groups): (UserRow, String),
) -> Result<User<D>, StoreError> {
    let groups = groups_json::parse(&row.id, &groups)?;
    let mut user = User::try_from(row)?;
    user.groups = groups;
    Ok(user)
}

/// [`find`] as a read of one statement, the document as `D` holds it (a [`DocumentText`] for a
/// user read only to be rendered).
pub fn find_once<D: StoredDocument>(
    read: OneRead<'_>,
    id: UserId,
) -> Result<Option<User<D>>, StoreError> {
    one_user::<D, self_scoped::ById>(read, id.to_string(), by_id)
}

/// The page of a look-up by `userName` ([`ListQuery::user_name_look_up`]) as a read of one
/// statement.
pub fn look_up_once<D: StoredDocument>(
    read: OneRead<'_>,
    name: &str,
) -> Result<UserPage<D>, StoreError> {
    let found = one_user::<D, self_scoped::ByUserNameKey>(read, fold_key(name), by_user_name_key)?;
    Ok(UserPage::of_one(found))
}

/// A read of the live user whose key is stored as the `String`, by the scoped queries of a
/// [`TenantTx`].
type ReadFiltered<D> = fn(&mut TenantTx<'_>, String) -> Result<Option<User<D>>, StoreError>;

/// The live user `wanted` finds: on PostgreSQL by the function `F`, on SQLite by `filtered`;
/// either way by one statement outside any transaction.
fn one_user<D: StoredDocument, F: self_scoped::UserFunction>(
    read: OneRead<'_>,
    wanted: String,
    filtered: ReadFiltered<D>,
) -> Result<Option<User<D>>, StoreError> {
    match read.0 {
        Way::Filtered(mut tx) => filtered(&mut tx, wanted),
        Way::SelfScoped { pg, workspace } => self_scoped::Call::<F>::new(workspace, wanted)
            .get_result::<(UserRow, String)>(pg)
            .optional()?
            .map(with_its_groups)
            .transpose(),
    }
}

/// Fills in the groups of `users` with one query.
fn with_groups<D>(tx: &mut TenantTx<'_>, users: &mut [User<D>]) -> Result<(), StoreError> {
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

/// User `id` of this workspace, deleted or not (tombstones included).
pub fn find_any(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<User>, StoreError> {
    let query = tx.users().refine(|q| {
        q.filter(users::id.eq(id.to_string()))
            .select(crate::scope::columns::<UserRow>())
    });
    tx.first::<UserRow, _>(query)?
        .map(User::try_from)
        .transpose()
}

/// The stored password hash of user `id`, for credential checks.
pub fn password_hash(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<String>, StoreError> {
    let query = tx.live_users().refine(|q| {
        q.filter(users::id.eq(id.to_string()))
            .select(users::password_hash)
    });
    Ok(tx.first::<Option<String>, _>(query)?.flatten())
}

/// A user's new state: the validated draft, a new password hash (`None` keeps the stored one),
/// and the session version the change leaves (see `User::sessions_after`).
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    pub draft: &'a UserDraft,
    pub password_hash: Option<&'a str>,
    pub session_version: i64,
}

/// Replaces `current` (read in this transaction, under [`lock`]) with `new`; the version moves
/// by one.
pub fn replace(
    tx: &mut TenantTx<'_>,
    current: &User,
    new: Replacement<'_>,
) -> Result<User, StoreError> {
    let draft = new.draft;
    let changes = UserChanges {
        user_name: draft.user_name.as_str(),
        user_name_key: draft.user_name.key(),
        external_id: draft.external_id.as_deref(),
        active: draft.active,
        display_name: draft.display_name.as_deref(),
        password_hash: new.password_hash,
        document: document_json(draft)?,
        folded_document: folded_json(&draft.document)?,
        folded_version: current.version + 1,
        version: current.version + 1,
        updated_at: clock::now(),
        email_key: email_key(draft),
        session_version: new.session_version,
    };
    let target = tx
        .live_users()
        .refine(|q| q.filter(users::id.eq(current.id.to_string())));
    let columns = <UserRow as Selectable<crate::db::MultiBackend>>::construct_selection();
    let changed: Vec<UserRow> = tx.update_returning(target, &changes, columns)?;
    let Some(row) = changed.into_iter().next() else {
        return Err(StoreError::Corrupt(format!(
            "user {} vanished under its lock",
            current.id
        )));
    };
    let mut user = User::try_from(row)?;
    // The groups as read under the lock: the replacement does not change them (a group write
    // committed since, on PostgreSQL, shows in the next read).
    user.groups = current.groups.clone();
    Ok(user)
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
    folded_document: String,
    folded_version: i64,
    version: i64,
    updated_at: time::PrimitiveDateTime,
    email_key: Option<String>,
    session_version: i64,
}

/// Deletes `user` (read under [`lock`]): gone from SCIM and from every group at once, its
/// `userName` free again; the row stays as a tombstone. Returns the groups it left.
pub fn delete(tx: &mut TenantTx<'_>, user: &User) -> Result<Vec<GroupId>, StoreError> {
    let target = tx
        .live_users()
        .refine(|q| q.filter(users::id.eq(user.id.to_string())));
    tx.update(
        target,
        (
            users::deleted_at.eq(clock::now()),
            users::version.eq(user.version + 1),
            users::session_version.eq(user.sessions_after_removal()),
        ),
    )?;
    crate::groups::remove_user_everywhere(tx, user.id)
}

/// Live users that are active, other than `except`.
pub fn count_active(tx: &mut TenantTx<'_>, except: Option<UserId>) -> Result<i64, StoreError> {
    let active = tx.live_users().refine(|q| q.filter(users::active.eq(true)));
    match except {
        Some(id) => tx.get(active.refine(|q| q.filter(users::id.ne(id.to_string())).count())),
        None => tx.get(active.refine(|q| q.count())),
    }
}

/// The workspace's users that are not deleted, active or not: the count the database keeps on
/// the workspace's row (migration `workspace_live_users_counted`), without counting them.
pub fn count_live(tx: &mut TenantTx<'_>) -> Result<i64, StoreError> {
    let query = tx
        .workspace_row()
        .refine(|q| q.select(crate::schema::workspaces::live_users));
    Ok(tx.first::<i64, _>(query)?.unwrap_or(0))
}

/// Erases a user's personal data on request: the user leaves every group, and the row stays as a
/// deleted tombstone with a placeholder name, no attributes, no external id and no password.
/// `None` when the workspace has no such user, live or deleted; else the groups it left.
pub fn erase(tx: &mut TenantTx<'_>, id: UserId) -> Result<Option<Vec<GroupId>>, StoreError> {
    tx.lock_users(&[id.to_string()], LockMode::Exclusive)?;
    let Some(user) = find_any(tx, id)? else {
        return Ok(None);
    };
    let placeholder = format!("erased-{id}");
    let document = serde_json::json!({"userName": placeholder, "active": false});
    let folded = serde_json::json!({"userName": fold_key(&placeholder), "active": false});
    let now = clock::now();
    let target = tx
        .users()
        .refine(|q| q.filter(users::id.eq(id.to_string())));
    tx.update(
        target,
        (
            users::user_name.eq(&placeholder),
            users::user_name_key.eq(&placeholder),
            users::external_id.eq(None::<String>),
            users::display_name.eq(None::<String>),
            users::password_hash.eq(None::<String>),
            users::active.eq(false),
            users::email_key.eq(None::<String>),
            users::document.eq(document.to_string()),
            users::folded_document.eq(folded.to_string()),
            users::folded_version.eq(user.version + 1),
            users::version.eq(user.version + 1),
            users::session_version.eq(user.sessions_after_removal()),
            users::updated_at.eq(now),
        ),
    )?;
    let live = tx.users().refine(|q| {
        q.filter(users::id.eq(id.to_string()))
            .filter(users::deleted_at.is_null())
    });
    tx.update(live, users::deleted_at.eq(now))?;
    crate::groups::remove_user_everywhere(tx, id).map(Some)
}

/// Removes tombstones of users deleted before `before`.
pub fn purge_deleted_before(
    tx: &mut TenantTx<'_>,
    before: time::OffsetDateTime,
) -> Result<usize, StoreError> {
    let target = tx
        .users()
        .refine(|q| q.filter(users::deleted_at.lt(clock::to_db(before))));
    tx.delete(target)
}

/// Sets the user's roles in WebWork; `false` when there is no such live user.
pub fn set_app_roles(
    tx: &mut TenantTx<'_>,
    id: UserId,
    roles: &[String],
) -> Result<bool, StoreError> {
    let roles = serde_json::to_string(roles).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let target = tx
        .live_users()
        .refine(|q| q.filter(users::id.eq(id.to_string())));
    let updated = tx.update(
        target,
        (
            users::app_roles.eq(roles),
            users::version.eq(users::version + 1),
            // The document is unchanged: a folded copy of the current version stays current.
            users::folded_version.eq(users::folded_version + 1),
            users::updated_at.eq(clock::now()),
        ),
    )?;
    Ok(updated > 0)
}
