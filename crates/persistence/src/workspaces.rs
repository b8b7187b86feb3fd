//! The workspace row of a tenant transaction: created, read, locked and changed by the
//! transaction of its own workspace. Resolving a key to a workspace, listing and purging them
//! cross workspaces and live in [`crate::unscoped`].

use diesel::prelude::*;
use time::OffsetDateTime;
use webwork_scim_domain::{EntitlementOverrides, Plan, Workspace, WorkspaceKey, WorkspaceName};

use crate::schema::workspaces;
use crate::{DbConnection, StoreError, TenantTx, clock};

#[derive(Queryable, Selectable)]
#[diesel(table_name = workspaces)]
pub(crate) struct WorkspaceRow {
    id: String,
    key: String,
    name: String,
    plan: String,
    sso_enabled: bool,
    created_at: time::PrimitiveDateTime,
    seats: Option<i32>,
    overrides: Option<String>,
    overrides_expire_at: Option<time::PrimitiveDateTime>,
    idp_issuer: Option<String>,
    sso_enforced: bool,
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = StoreError;

    fn try_from(row: WorkspaceRow) -> Result<Workspace, StoreError> {
        let corrupt =
            |what: &str, value: &str| StoreError::Corrupt(format!("workspace {what} '{value}'"));
        Ok(Workspace {
            id: row.id.parse().map_err(|_| corrupt("id", &row.id))?,
            key: WorkspaceKey::parse(&row.key).map_err(|_| corrupt("key", &row.key))?,
            plan: row.plan.parse().map_err(|_| corrupt("plan", &row.plan))?,
            name: row.name,
            sso_enabled: row.sso_enabled,
            sso_enforced: row.sso_enforced,
            idp_issuer: row.idp_issuer,
            seats: row.seats.and_then(|n| u32::try_from(n).ok()),
            overrides: row
                .overrides
                .map(|json| serde_json::from_str(&json).map_err(|_| corrupt("overrides", &json)))
                .transpose()?,
            overrides_expire_at: row.overrides_expire_at.map(clock::from_db),
            created_at: clock::from_db(row.created_at),
        })
    }
}

/// The live workspace `key`, read on a connection of a transaction that belongs to no workspace
/// yet (the `workspaces` table has no row-level security: a key is resolved before the tenant is
/// known).
pub(crate) fn find_by_key(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
) -> Result<Option<Workspace>, StoreError> {
    workspaces::table
        .filter(workspaces::deleted_at.is_null())
        .filter(workspaces::key.eq(key.as_str().to_owned()))
        .select(WorkspaceRow::as_select())
        .first::<WorkspaceRow>(conn)
        .optional()?
        .map(Workspace::try_from)
        .transpose()
}

/// Creates the workspace the transaction was opened for, so that its creation and its first
/// audit event commit together. A key already taken is [`StoreError::Conflict`].
pub fn create(
    tx: &mut TenantTx<'_>,
    key: &WorkspaceKey,
    name: &WorkspaceName,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, StoreError> {
    let now = clock::now();
    let id = workspaces::id.eq(tx.workspace_text());
    tx.run_insert(diesel::insert_into(workspaces::table).values((
        id,
        workspaces::key.eq(key.as_str()),
        workspaces::name.eq(name.as_str()),
        workspaces::plan.eq(plan.as_str()),
        workspaces::sso_enabled.eq(sso_enabled),
        workspaces::created_at.eq(now),
        workspaces::updated_at.eq(now),
    )))?;
    current(tx)?.ok_or_else(|| StoreError::Corrupt("workspace vanished".into()))
}

/// The transaction's workspace, unless it was deleted.
pub fn current(tx: &mut TenantTx<'_>) -> Result<Option<Workspace>, StoreError> {
    let query = tx.workspace_row().refine(|q| {
        q.filter(workspaces::deleted_at.is_null())
            .select(crate::scope::columns::<WorkspaceRow>())
    });
    tx.first::<WorkspaceRow, _>(query)?
        .map(Workspace::try_from)
        .transpose()
}

/// The transaction's workspace, locked until the transaction ends: checks of its limits (seats,
/// tokens) and changes to its settings run one after another.
///
/// One statement on PostgreSQL: the row is read as it stands once the lock is granted (a change
/// committed while this waited is seen). SQLite's writing transactions hold the whole database
/// already, so it only reads.
///
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: every row written in the workspace (an audit event,
/// an outbox event, a member) checks its foreign key with a key-share lock on this row, which
/// `FOR UPDATE` would make wait. A change holding a user's lock and writing its events would
/// then wait for a lock holder waiting for that user: a deadlock.
pub fn lock(tx: &mut TenantTx<'_>) -> Result<Option<Workspace>, StoreError> {
    Ok(lock_counting_users(tx)?.map(|(workspace, _)| workspace))
}

/// [`lock`], and the workspace's live users as the database counts them (see
/// [`crate::users::count_live`]) read by the same statement: a creation checks its room with
/// one round trip fewer.
pub fn lock_counting_users(tx: &mut TenantTx<'_>) -> Result<Option<(Workspace, i64)>, StoreError> {
    let query = tx.workspace_row().refine(|q| {
        q.filter(workspaces::deleted_at.is_null()).select((
            crate::scope::columns::<WorkspaceRow>(),
            workspaces::live_users,
        ))
    });
    let row = tx.run_per_backend(query, |query, conn| match conn {
        DbConnection::Postgres(pg) => query
            .for_no_key_update()
            .first::<(WorkspaceRow, i64)>(pg)
            .optional(),
        DbConnection::Sqlite(lite) => query.first::<(WorkspaceRow, i64)>(lite).optional(),
    })?;
    row.map(|(row, live)| Ok((Workspace::try_from(row)?, live)))
        .transpose()
}

/// The changes an update may make; each `None` leaves its column as it is.
#[derive(Debug, Default, Clone)]
pub struct WorkspaceUpdate {
    pub plan: Option<Plan>,
    pub sso_enabled: Option<bool>,
    pub sso_enforced: Option<bool>,
    pub idp_issuer: Option<Option<String>>,
    pub seats: Option<Option<u32>>,
    pub overrides: Option<(Option<EntitlementOverrides>, Option<OffsetDateTime>)>,
}

#[derive(AsChangeset)]
#[diesel(table_name = workspaces)]
struct Changes {
    plan: Option<String>,
    sso_enabled: Option<bool>,
    sso_enforced: Option<bool>,
    idp_issuer: Option<Option<String>>,
    seats: Option<Option<i32>>,
    overrides: Option<Option<String>>,
    overrides_expire_at: Option<Option<time::PrimitiveDateTime>>,
    updated_at: time::PrimitiveDateTime,
}

/// Applies `update` to the transaction's live workspace; `None` when it was deleted.
pub fn update(
    tx: &mut TenantTx<'_>,
    update: WorkspaceUpdate,
) -> Result<Option<Workspace>, StoreError> {
    let (overrides, overrides_expire_at) = match update.overrides {
        Some((overrides, until)) => {
            let json = overrides
                .map(|o| {
                    serde_json::to_string(&o).map_err(|err| StoreError::Corrupt(err.to_string()))
                })
                .transpose()?;
            (Some(json), Some(until.map(clock::to_db)))
        }
        None => (None, None),
    };
    let changes = Changes {
        plan: update.plan.map(|plan| plan.as_str().to_owned()),
        sso_enabled: update.sso_enabled,
        sso_enforced: update.sso_enforced,
        idp_issuer: update.idp_issuer,
        seats: update
            .seats
            .map(|seats| seats.map(|n| i32::try_from(n).unwrap_or(i32::MAX))),
        overrides,
        overrides_expire_at,
        updated_at: clock::now(),
    };
    let target = tx
        .workspace_row()
        .refine(|q| q.filter(workspaces::deleted_at.is_null()));
    tx.update(target, &changes)?;
    current(tx)
}

/// Marks the transaction's workspace deleted: its key stops resolving at once; its data is
/// purged after the grace period by retention.
pub fn mark_deleted(tx: &mut TenantTx<'_>) -> Result<bool, StoreError> {
    let target = tx
        .workspace_row()
        .refine(|q| q.filter(workspaces::deleted_at.is_null()));
    Ok(tx.update(target, workspaces::deleted_at.eq(clock::now()))? > 0)
}
