//! SCIM API tokens of one workspace: issue, list, revoke. Only the argon2id hash of a secret is
//! stored.

use diesel::prelude::*;
use time::OffsetDateTime;
use webwork_scim_domain::{TokenId, TokenLifetime};

use crate::inserts::insert_row;
use crate::schema::scim_tokens;
use crate::{StoreError, TenantTx, clock};

/// What authentication needs of a token row. `Debug` leaves the hash out.
#[derive(Clone)]
pub struct StoredToken {
    pub id: TokenId,
    pub secret_hash: String,
    pub lifetime: TokenLifetime,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("id", &self.id)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

fn token_id(raw: &str) -> Result<TokenId, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("token id '{raw}'")))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
struct AuthRow {
    id: String,
    secret_hash: String,
    revoked_at: Option<time::PrimitiveDateTime>,
    expires_at: Option<time::PrimitiveDateTime>,
}

/// The token of this workspace with public prefix `prefix`, as authentication needs it.
pub fn find_by_prefix(
    tx: &mut TenantTx<'_>,
    prefix: &str,
) -> Result<Option<StoredToken>, StoreError> {
    let query = tx.tokens().refine(|q| {
        q.filter(scim_tokens::prefix.eq(prefix.to_owned()))
            .select(crate::scope::columns::<AuthRow>())
    });
    let Some(row) = tx.first::<AuthRow, _>(query)? else {
        return Ok(None);
    };
    Ok(Some(StoredToken {
        id: token_id(&row.id)?,
        secret_hash: row.secret_hash,
        lifetime: TokenLifetime {
            revoked_at: row.revoked_at.map(clock::from_db),
            expires_at: row.expires_at.map(clock::from_db),
        },
    }))
}

/// A token as listed to admins: never the secret, never the hash.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSummary {
    pub id: TokenId,
    pub prefix: String,
    pub label: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// The token that replaced this one in a rotation.
    pub replaced_by: Option<TokenId>,
}

impl TokenSummary {
    pub fn lifetime(&self) -> TokenLifetime {
        TokenLifetime {
            revoked_at: self.revoked_at,
            expires_at: self.expires_at,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
struct SummaryRow {
    id: String,
    prefix: String,
    label: String,
    created_at: time::PrimitiveDateTime,
    last_used_at: Option<time::PrimitiveDateTime>,
    expires_at: Option<time::PrimitiveDateTime>,
    revoked_at: Option<time::PrimitiveDateTime>,
    replaced_by: Option<String>,
}

impl TryFrom<SummaryRow> for TokenSummary {
    type Error = StoreError;

    fn try_from(row: SummaryRow) -> Result<Self, StoreError> {
        Ok(TokenSummary {
            id: token_id(&row.id)?,
            prefix: row.prefix,
            label: row.label,
            created_at: clock::from_db(row.created_at),
            last_used_at: row.last_used_at.map(clock::from_db),
            expires_at: row.expires_at.map(clock::from_db),
            revoked_at: row.revoked_at.map(clock::from_db),
            replaced_by: row.replaced_by.as_deref().map(token_id).transpose()?,
        })
    }
}

/// Stores a new token of the transaction's workspace.
pub fn insert(
    tx: &mut TenantTx<'_>,
    prefix: &str,
    secret_hash: &str,
    label: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<TokenSummary, StoreError> {
    let id = TokenId::generate();
    insert_row!(
        tx,
        scim_tokens,
        (
            scim_tokens::id.eq(id.to_string()),
            scim_tokens::prefix.eq(prefix),
            scim_tokens::secret_hash.eq(secret_hash),
            scim_tokens::label.eq(label),
            scim_tokens::created_at.eq(clock::now()),
            scim_tokens::expires_at.eq(expires_at.map(clock::to_db)),
        )
    )?;
    find(tx, id)?.ok_or_else(|| StoreError::Corrupt("token vanished".into()))
}

pub fn find(tx: &mut TenantTx<'_>, id: TokenId) -> Result<Option<TokenSummary>, StoreError> {
    let query = tx.tokens().refine(|q| {
        q.filter(scim_tokens::id.eq(id.to_string()))
            .select(crate::scope::columns::<SummaryRow>())
    });
    tx.first::<SummaryRow, _>(query)?
        .map(TokenSummary::try_from)
        .transpose()
}

/// Token `id`, locked until the transaction ends, so that two rotations or revocations of it run
/// one after another.
pub fn lock(tx: &mut TenantTx<'_>, id: TokenId) -> Result<Option<TokenSummary>, StoreError> {
    tx.lock_token(&id.to_string())?;
    find(tx, id)
}

/// Every token of the workspace, oldest first, revoked ones included.
pub fn list(tx: &mut TenantTx<'_>) -> Result<Vec<TokenSummary>, StoreError> {
    let query = tx.tokens().refine(|q| {
        q.order(scim_tokens::id)
            .select(crate::scope::columns::<SummaryRow>())
    });
    tx.load::<SummaryRow, _>(query)?
        .into_iter()
        .map(TokenSummary::try_from)
        .collect()
}

/// Revokes a token at once; revoking twice keeps the first time. `None` for an id that is not a
/// token of this workspace.
pub fn revoke(tx: &mut TenantTx<'_>, id: TokenId) -> Result<Option<TokenSummary>, StoreError> {
    let target = tx.tokens().refine(|q| {
        q.filter(scim_tokens::id.eq(id.to_string()))
            .filter(scim_tokens::revoked_at.is_null())
    });
    tx.update(target, scim_tokens::revoked_at.eq(clock::now()))?;
    find(tx, id)
}

/// Tokens active at `now`.
pub fn count_active(tx: &mut TenantTx<'_>, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(list(tx)?
        .iter()
        .filter(|t| t.lifetime().is_active_at(now))
        .count())
}

/// Makes token `id` expire at `at`, or earlier if it already would (token rotation).
pub fn expire_by(
    tx: &mut TenantTx<'_>,
    id: TokenId,
    at: OffsetDateTime,
) -> Result<Option<TokenSummary>, StoreError> {
    let Some(current) = find(tx, id)? else {
        return Ok(None);
    };
    if current.revoked_at.is_some() {
        return Ok(Some(current));
    }
    let at = current.expires_at.map_or(at, |existing| existing.min(at));
    let target = tx
        .tokens()
        .refine(|q| q.filter(scim_tokens::id.eq(id.to_string())));
    tx.update(target, scim_tokens::expires_at.eq(clock::to_db(at)))?;
    find(tx, id)
}

/// Records that token `id` was replaced by `by` in a rotation.
pub fn mark_replaced(tx: &mut TenantTx<'_>, id: TokenId, by: TokenId) -> Result<(), StoreError> {
    let target = tx
        .tokens()
        .refine(|q| q.filter(scim_tokens::id.eq(id.to_string())));
    tx.update(target, scim_tokens::replaced_by.eq(by.to_string()))?;
    Ok(())
}

/// Records that a token was used at `at`.
pub fn touch_last_used(
    tx: &mut TenantTx<'_>,
    id: TokenId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let target = tx
        .tokens()
        .refine(|q| q.filter(scim_tokens::id.eq(id.to_string())));
    tx.update(target, scim_tokens::last_used_at.eq(clock::to_db(at)))?;
    Ok(())
}

/// Revokes every live token of the workspace (when it is deleted).
pub fn revoke_all(tx: &mut TenantTx<'_>) -> Result<usize, StoreError> {
    let target = tx
        .tokens()
        .refine(|q| q.filter(scim_tokens::revoked_at.is_null()));
    tx.update(target, scim_tokens::revoked_at.eq(clock::now()))
}

/// Active tokens that expire within `window` after `now` and were not replaced by a rotation
/// (whose grace period ending is expected, not a reason to warn anyone).
pub fn count_expiring(
    tx: &mut TenantTx<'_>,
    now: OffsetDateTime,
    window: std::time::Duration,
) -> Result<usize, StoreError> {
    let window = time::Duration::try_from(window).unwrap_or(time::Duration::MAX);
    let tokens = list(tx)?;
    // A replacement counts only while it still works; a revoked one leaves the old token the
    // one the IdP depends on.
    let replaced = |t: &TokenSummary| {
        t.replaced_by.is_some_and(|by| {
            tokens
                .iter()
                .any(|other| other.id == by && other.lifetime().is_active_at(now))
        })
    };
    Ok(tokens
        .iter()
        .filter(|t| t.lifetime().expires_within(now, window) && !replaced(t))
        .count())
}
