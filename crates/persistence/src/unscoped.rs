//! The queries that must run before a workspace is known, or across workspaces. Each one is
//! reviewed as such: nothing here may return one workspace's data to another's caller.

use diesel::prelude::*;
use time::OffsetDateTime;
use webwork_scim_domain::{TokenId, Workspace, WorkspaceKey};

use crate::schema::{scim_tokens, workspaces};
use crate::workspaces::WorkspaceRow;
use crate::{DbConnection, StoreError, clock};

/// What authentication needs of a token row. `Debug` leaves the hash out.
#[derive(Clone)]
pub struct StoredToken {
    pub id: TokenId,
    pub secret_hash: String,
    pub revoked_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("id", &self.id)
            .field("revoked_at", &self.revoked_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The columns of a token that authentication reads.
#[derive(Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
struct AuthTokenRow {
    id: String,
    secret_hash: String,
    revoked_at: Option<time::PrimitiveDateTime>,
    expires_at: Option<time::PrimitiveDateTime>,
}

/// The workspace with key `key` and its token with public prefix `prefix`, in one round trip.
/// `None` when either is unknown: the caller answers both alike.
pub fn resolve_token(
    conn: &mut DbConnection,
    key: &WorkspaceKey,
    prefix: &str,
) -> Result<Option<(Workspace, StoredToken)>, StoreError> {
    let row = workspaces::table
        .inner_join(scim_tokens::table)
        .filter(workspaces::key.eq(key.as_str()))
        .filter(scim_tokens::prefix.eq(prefix))
        .select((WorkspaceRow::as_select(), AuthTokenRow::as_select()))
        .first::<(WorkspaceRow, AuthTokenRow)>(conn)
        .optional()?;
    let Some((workspace, token)) = row else {
        return Ok(None);
    };
    let token = StoredToken {
        id: token
            .id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("token id '{}'", token.id)))?,
        secret_hash: token.secret_hash,
        revoked_at: token.revoked_at.map(clock::from_db),
        expires_at: token.expires_at.map(clock::from_db),
    };
    Ok(Some((Workspace::try_from(workspace)?, token)))
}
