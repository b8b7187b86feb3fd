//! The queries that must run before a workspace is known, or across workspaces. Each one is
//! reviewed as such: nothing here may return one workspace's data to another's caller.

use diesel::prelude::*;
use time::OffsetDateTime;
use webwork_scim_domain::{TokenId, Workspace, WorkspaceKey};

use crate::schema::{scim_tokens, workspaces};
use crate::workspaces::{COLUMNS, WorkspaceRow};
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

type TokenColumns = (
    scim_tokens::id,
    scim_tokens::secret_hash,
    scim_tokens::revoked_at,
    scim_tokens::expires_at,
);

const TOKEN_COLUMNS: TokenColumns = (
    scim_tokens::id,
    scim_tokens::secret_hash,
    scim_tokens::revoked_at,
    scim_tokens::expires_at,
);

type TokenRow = (
    String,
    String,
    Option<time::PrimitiveDateTime>,
    Option<time::PrimitiveDateTime>,
);

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
        .select((COLUMNS, TOKEN_COLUMNS))
        .first::<(WorkspaceRow, TokenRow)>(conn)
        .optional()?;
    let Some((workspace, (id, secret_hash, revoked_at, expires_at))) = row else {
        return Ok(None);
    };
    let token = StoredToken {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("token id '{id}'")))?,
        secret_hash,
        revoked_at: revoked_at.map(clock::from_db),
        expires_at: expires_at.map(clock::from_db),
    };
    Ok(Some((Workspace::try_from(workspace)?, token)))
}
