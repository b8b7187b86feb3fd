//! The workspace rows themselves: created, read and changed by key. A workspace is the root of
//! its tenant's data, so these functions take a connection rather than a [`crate::TenantTx`];
//! the table has no row-level security because the service must resolve a key before it knows
//! the tenant.

use diesel::prelude::*;
use time::OffsetDateTime;
use webwork_scim_domain::{
    EntitlementOverrides, Plan, Workspace, WorkspaceId, WorkspaceKey, WorkspaceName,
};

use crate::schema::workspaces;
use crate::{DbConnection, StoreError, clock};

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

/// Live (not deleted) workspaces.
fn live() -> workspaces::BoxedQuery<'static, crate::db::MultiBackend> {
    workspaces::table
        .filter(workspaces::deleted_at.is_null())
        .into_boxed()
}

pub fn create(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    name: &WorkspaceName,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, StoreError> {
    insert(conn, WorkspaceId::generate(), key, name, plan, sso_enabled)
}

/// Creates the workspace the transaction was opened for, so that its creation and its first
/// audit event commit together.
pub fn create_in(
    tx: &mut crate::TenantTx<'_>,
    key: &WorkspaceKey,
    name: &WorkspaceName,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, StoreError> {
    let (conn, id) = tx.parts();
    insert(conn, id, key, name, plan, sso_enabled)
}

/// Applies `update` to the workspace the transaction was opened for (and only if its key is
/// `key`), in the same transaction as the change's audit event.
pub fn update_in(
    tx: &mut crate::TenantTx<'_>,
    key: &WorkspaceKey,
    changes: WorkspaceUpdate,
) -> Result<Option<Workspace>, StoreError> {
    let (conn, id) = tx.parts();
    let current = find_by_key(conn, key)?;
    if current.is_none_or(|ws| ws.id != id) {
        return Ok(None);
    }
    update(conn, key, changes)
}

/// Marks the transaction's workspace deleted, like [`mark_deleted`].
pub fn mark_deleted_in(
    tx: &mut crate::TenantTx<'_>,
    key: &WorkspaceKey,
) -> Result<bool, StoreError> {
    let (conn, id) = tx.parts();
    let changed = diesel::update(
        workspaces::table
            .filter(workspaces::id.eq(id.to_string()))
            .filter(workspaces::key.eq(key.as_str()))
            .filter(workspaces::deleted_at.is_null()),
    )
    .set(workspaces::deleted_at.eq(clock::now()))
    .execute(conn)?;
    Ok(changed > 0)
}

fn insert(
    conn: &mut DbConnection,
    id: WorkspaceId,
    key: &WorkspaceKey,
    name: &WorkspaceName,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, StoreError> {
    let now = clock::now();
    diesel::insert_into(workspaces::table)
        .values((
            workspaces::id.eq(id.to_string()),
            workspaces::key.eq(key.as_str()),
            workspaces::name.eq(name.as_str()),
            workspaces::plan.eq(plan.as_str()),
            workspaces::sso_enabled.eq(sso_enabled),
            workspaces::created_at.eq(now),
            workspaces::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_by_key(conn, key)?.ok_or_else(|| StoreError::Corrupt("workspace vanished".into()))
}

pub fn find_by_key(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
) -> Result<Option<Workspace>, StoreError> {
    live()
        .filter(workspaces::key.eq(key.as_str().to_owned()))
        .select(WorkspaceRow::as_select())
        .first::<WorkspaceRow>(conn)
        .optional()?
        .map(Workspace::try_from)
        .transpose()
}

/// A page of live workspaces, oldest first, and how many there are.
pub fn list(
    conn: &mut DbConnection,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Workspace>), StoreError> {
    let total = live().count().get_result(conn)?;
    let rows = live()
        .order(workspaces::id)
        .offset(offset)
        .limit(limit)
        .select(WorkspaceRow::as_select())
        .load::<WorkspaceRow>(conn)?;
    let workspaces = rows
        .into_iter()
        .map(Workspace::try_from)
        .collect::<Result<_, _>>()?;
    Ok((total, workspaces))
}

/// The ids of every workspace, deleted ones included (for retention work).
pub fn all_ids(conn: &mut DbConnection) -> Result<Vec<WorkspaceId>, StoreError> {
    workspaces::table
        .select(workspaces::id)
        .load::<String>(conn)?
        .into_iter()
        .map(|id| {
            id.parse()
                .map_err(|_| StoreError::Corrupt(format!("workspace id '{id}'")))
        })
        .collect()
}

/// The changes an update may make; each `None` leaves its column as it is.
#[derive(Debug, Default)]
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

/// Applies `update` to the live workspace `key`; `None` when there is none.
pub fn update(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
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
    diesel::update(
        workspaces::table
            .filter(workspaces::key.eq(key.as_str()))
            .filter(workspaces::deleted_at.is_null()),
    )
    .set(&changes)
    .execute(conn)?;
    find_by_key(conn, key)
}

pub fn set_plan(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    plan: Plan,
) -> Result<Option<Workspace>, StoreError> {
    update(
        conn,
        key,
        WorkspaceUpdate {
            plan: Some(plan),
            ..WorkspaceUpdate::default()
        },
    )
}

pub fn set_sso(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    enabled: bool,
) -> Result<Option<Workspace>, StoreError> {
    update(
        conn,
        key,
        WorkspaceUpdate {
            sso_enabled: Some(enabled),
            ..WorkspaceUpdate::default()
        },
    )
}

/// Marks a workspace deleted: its key stops resolving at once; its data is purged after the
/// grace period by retention.
pub fn mark_deleted(conn: &mut DbConnection, key: &WorkspaceKey) -> Result<bool, StoreError> {
    let changed = diesel::update(
        workspaces::table
            .filter(workspaces::key.eq(key.as_str()))
            .filter(workspaces::deleted_at.is_null()),
    )
    .set(workspaces::deleted_at.eq(clock::now()))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Removes workspaces deleted before `before`, with all their data (foreign keys cascade).
pub fn purge_deleted(conn: &mut DbConnection, before: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(workspaces::table.filter(workspaces::deleted_at.lt(clock::to_db(before))))
            .execute(conn)?,
    )
}

/// How many workspaces exist (zero on a fresh database).
pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(workspaces::table.count().get_result(conn)?)
}

/// Locks the workspace row until the transaction ends, so that concurrent seat checks of one
/// workspace run one after another. SQLite's write transactions are serial already.
pub(crate) fn lock(conn: &mut DbConnection, id: WorkspaceId) -> Result<(), StoreError> {
    if let DbConnection::Postgres(pg) = conn {
        workspaces::table
            .filter(workspaces::id.eq(id.to_string()))
            .select(workspaces::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    Ok(())
}
