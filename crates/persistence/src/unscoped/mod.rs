//! The queries that run across workspaces, each reviewed as such: nothing here may return one
//! workspace's tenant data to another's caller. They resolve workspace keys and list, count and
//! purge workspaces (the `workspaces` table carries no tenant data beyond the workspace itself),
//! and deliver every workspace's outbox ([`delivery`]). Each opens its own transaction.

pub mod delivery;
pub mod rekey;

use diesel::prelude::*;
use time::OffsetDateTime;
use webwork_scim_domain::{Workspace, WorkspaceId, WorkspaceKey};

use crate::schema::workspaces;
use crate::workspaces::WorkspaceRow;
use crate::{Access, Store, StoreError, clock};

/// The live workspace `key`.
pub fn find_workspace(store: &Store, key: &WorkspaceKey) -> Result<Option<Workspace>, StoreError> {
    store.unscoped(Access::Read, |conn| {
        crate::workspaces::find_by_key(conn, key)
    })
}

/// A page of live workspaces for the platform's listing, oldest first, and their total.
pub fn list_workspaces(
    store: &Store,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Workspace>), StoreError> {
    store.unscoped(Access::Read, |conn| {
        let live = || workspaces::table.filter(workspaces::deleted_at.is_null());
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
    })
}

/// Every workspace id, deleted ones included, for retention work done one tenant at a time.
pub fn workspace_ids(store: &Store) -> Result<Vec<WorkspaceId>, StoreError> {
    store.unscoped(Access::Read, |conn| {
        workspaces::table
            .select(workspaces::id)
            .load::<String>(conn)?
            .into_iter()
            .map(|id| {
                id.parse()
                    .map_err(|_| StoreError::Corrupt(format!("workspace id '{id}'")))
            })
            .collect()
    })
}

/// How many workspaces exist, deleted ones included (zero on a fresh database).
pub fn count_workspaces(store: &Store) -> Result<i64, StoreError> {
    store.unscoped(Access::Read, |conn| {
        Ok(workspaces::table.count().get_result(conn)?)
    })
}

/// Removes workspaces deleted before `before` with everything they held (foreign keys cascade).
pub fn purge_deleted_workspaces(
    store: &Store,
    before: OffsetDateTime,
) -> Result<usize, StoreError> {
    store.unscoped(Access::Write, |conn| {
        Ok(diesel::delete(
            workspaces::table.filter(workspaces::deleted_at.lt(clock::to_db(before))),
        )
        .execute(conn)?)
    })
}
