//! Folded documents that are missing or older than their row: written before the column existed,
//! or by an earlier release still running during a rollout (it changes the document and the
//! version, not the folded copy). Filters see such a user as it was folded last, or not at all,
//! until this recomputes it, a batch at a time.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::folded_json;
use crate::schema::users;
use crate::{StoreError, TenantTx};

fn stale() -> diesel::dsl::Or<
    diesel::dsl::IsNull<users::folded_version>,
    diesel::dsl::Ne<users::folded_version, diesel::dsl::Nullable<users::version>>,
> {
    users::folded_version
        .is_null()
        .or(users::folded_version.ne(users::version.nullable()))
}

/// Whether any user of the workspace has a folded document to recompute: a read through the
/// partial index `users_unfolded`, so that a pass over every workspace writes only where there
/// is work.
pub fn any_stale(tx: &mut TenantTx<'_>) -> Result<bool, StoreError> {
    let probe = tx
        .users()
        .refine(|q| q.filter(stale()).select(users::id).limit(1));
    Ok(!tx.load::<String, _>(probe)?.is_empty())
}

/// Users (deleted ones too) whose folded document is not of their current version, up to
/// `limit`, recomputed; returns how many. A row changed again meanwhile is left to the next pass.
pub fn refold_stale(tx: &mut TenantTx<'_>, limit: i64) -> Result<usize, StoreError> {
    let stale = tx.users().refine(|q| {
        q.filter(stale())
            .select((users::id, users::document, users::version))
            .limit(limit)
    });
    let rows: Vec<(String, String, i64)> = tx.load(stale)?;
    let mut refolded = 0;
    for (id, document, version) in rows {
        let document: Map<String, Value> = serde_json::from_str(&document)
            .map_err(|err| StoreError::Corrupt(format!("user {id} document: {err}")))?;
        let target = tx.users().refine(|q| {
            q.filter(users::id.eq(id))
                .filter(users::version.eq(version))
        });
        refolded += tx.update(
            target,
            (
                users::folded_document.eq(folded_json(&document)?),
                users::folded_version.eq(version),
            ),
        )?;
    }
    Ok(refolded)
}
