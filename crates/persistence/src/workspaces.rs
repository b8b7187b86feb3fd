//! The workspace rows themselves: created, read and changed by key. A workspace is the root of
//! its tenant's data, so these functions take a connection rather than a [`crate::TenantTx`].

use diesel::prelude::*;
use webwork_scim_domain::{Plan, Workspace, WorkspaceId, WorkspaceKey, WorkspaceName};

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
    #[allow(dead_code)]
    updated_at: time::PrimitiveDateTime,
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = StoreError;

    fn try_from(row: WorkspaceRow) -> Result<Workspace, StoreError> {
        Ok(Workspace {
            id: row
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("workspace id '{}'", row.id)))?,
            key: WorkspaceKey::parse(&row.key)
                .map_err(|_| StoreError::Corrupt(format!("workspace key '{}'", row.key)))?,
            name: row.name,
            plan: row
                .plan
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("plan '{}'", row.plan)))?,
            sso_enabled: row.sso_enabled,
            created_at: clock::from_db(row.created_at),
        })
    }
}

pub fn create(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    name: &WorkspaceName,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, StoreError> {
    let id = WorkspaceId::generate();
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
    workspaces::table
        .filter(workspaces::key.eq(key.as_str()))
        .select(WorkspaceRow::as_select())
        .first::<WorkspaceRow>(conn)
        .optional()?
        .map(Workspace::try_from)
        .transpose()
}

pub fn set_plan(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    plan: Plan,
) -> Result<Option<Workspace>, StoreError> {
    update(
        conn,
        key,
        WorkspaceChanges {
            plan: Some(plan.as_str()),
            ..WorkspaceChanges::default()
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
        WorkspaceChanges {
            sso_enabled: Some(enabled),
            ..WorkspaceChanges::default()
        },
    )
}

/// The columns an update may change; `None` leaves a column as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = workspaces)]
struct WorkspaceChanges<'a> {
    plan: Option<&'a str>,
    sso_enabled: Option<bool>,
    updated_at: Option<time::PrimitiveDateTime>,
}

fn update(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    changes: WorkspaceChanges<'_>,
) -> Result<Option<Workspace>, StoreError> {
    let changes = WorkspaceChanges {
        updated_at: Some(clock::now()),
        ..changes
    };
    diesel::update(workspaces::table.filter(workspaces::key.eq(key.as_str())))
        .set(&changes)
        .execute(conn)?;
    find_by_key(conn, key)
}

/// How many workspaces exist (zero on a fresh database).
pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(workspaces::table.count().get_result(conn)?)
}
