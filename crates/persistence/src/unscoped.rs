//! The queries that run across workspaces. Each one is reviewed as such: nothing here may return
//! one workspace's tenant data to another's caller. They touch only the `workspaces` table, which
//! carries no tenant data beyond the workspace itself.

use time::OffsetDateTime;
use webwork_scim_domain::{Workspace, WorkspaceId};

use crate::{DbConnection, StoreError, workspaces};

/// A page of live workspaces for the platform's listing, and their total.
pub fn list_workspaces(
    conn: &mut DbConnection,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Workspace>), StoreError> {
    workspaces::list(conn, offset, limit)
}

/// Every workspace id, deleted ones included, for retention work done one tenant at a time.
pub fn workspace_ids(conn: &mut DbConnection) -> Result<Vec<WorkspaceId>, StoreError> {
    workspaces::all_ids(conn)
}

/// Removes workspaces deleted before `before` with everything they held.
pub fn purge_deleted_workspaces(
    conn: &mut DbConnection,
    before: OffsetDateTime,
) -> Result<usize, StoreError> {
    workspaces::purge_deleted(conn, before)
}
