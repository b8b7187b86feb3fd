//! Housekeeping: retention purges old audit events and provisioning errors, tombstones of
//! deleted users, delivered events and workspaces past their deletion grace period, one
//! workspace at a time (each in its own tenant transaction, so that row-level security applies
//! to this work too); the tokens about to expire are counted for the alerts; and users' folded
//! documents that an earlier release left behind are recomputed.

use std::time::Duration;

use time::OffsetDateTime;
use webwork_scim_persistence::{
    Store, StoreError, audit, outbox, provisioning_errors, tokens, unscoped, users,
};

/// How long each kind of record is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub audit: Duration,
    pub errors: Duration,
    pub deleted_users: Duration,
    pub deleted_workspaces: Duration,
    pub delivered_events: Duration,
}

/// What one pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub audit_events: usize,
    pub provisioning_errors: usize,
    pub user_tombstones: usize,
    pub workspaces: usize,
    pub delivered_events: usize,
}

/// Users' folded documents recomputed per transaction.
const REFOLD_BATCH: i64 = 500;

/// Recomputes every folded document that is missing or older than its row, workspace by
/// workspace, a batch per transaction; returns how many. Blocking.
pub fn refold(store: &Store) -> Result<usize, StoreError> {
    let batch = usize::try_from(REFOLD_BATCH).unwrap_or(usize::MAX);
    let mut refolded = 0;
    for workspace in unscoped::workspace_ids(store)? {
        if !store.read(workspace, users::any_stale)? {
            continue;
        }
        loop {
            let done = store.write(workspace, |tx| users::refold_stale(tx, REFOLD_BATCH))?;
            refolded += done;
            if done < batch {
                break;
            }
        }
    }
    Ok(refolded)
}

/// One retention pass at `now`. Blocking.
pub fn purge(
    store: &Store,
    retention: &Retention,
    now: OffsetDateTime,
) -> Result<Purged, StoreError> {
    let mut purged = Purged::default();
    let workspaces = unscoped::workspace_ids(store)?;
    for workspace in workspaces {
        store.write(workspace, |tx| {
            purged.audit_events += audit::purge_before(tx, now - retention.audit)?;
            purged.provisioning_errors +=
                provisioning_errors::purge_before(tx, now - retention.errors)?;
            purged.user_tombstones +=
                users::purge_deleted_before(tx, now - retention.deleted_users)?;
            purged.delivered_events +=
                outbox::purge_delivered_before(tx, now - retention.delivered_events)?;
            Ok::<_, StoreError>(())
        })?;
    }
    purged.workspaces =
        unscoped::purge_deleted_workspaces(store, now - retention.deleted_workspaces)?;
    Ok(purged)
}

/// Active tokens of every workspace that expire within `window` of `now` (one tenant
/// transaction per workspace, as row-level security requires). Blocking.
pub fn tokens_expiring(
    store: &Store,
    now: OffsetDateTime,
    window: Duration,
) -> Result<usize, StoreError> {
    let mut expiring = 0;
    for workspace in unscoped::workspace_ids(store)? {
        expiring += store.read(workspace, |tx| tokens::count_expiring(tx, now, window))?;
    }
    Ok(expiring)
}

impl super::UseCases {
    /// One housekeeping pass now: what retention purged, and how many tokens expire within
    /// `warning`.
    pub async fn housekeeping_pass(
        &self,
        retention: Retention,
        warning: Duration,
    ) -> Result<(Purged, usize), StoreError> {
        let store = self.store.clone();
        super::run_blocking(move || {
            let now = OffsetDateTime::now_utc();
            let purged = purge(&store, &retention, now)?;
            let expiring = tokens_expiring(&store, now, warning)?;
            Ok((purged, expiring))
        })
        .await
    }

    /// Recomputes the folded documents an earlier release left missing or stale (see
    /// [`refold`]); returns how many.
    pub async fn refold_pass(&self) -> Result<usize, StoreError> {
        let store = self.store.clone();
        super::run_blocking(move || refold(&store)).await
    }

    /// Whether any workspace exists (the demo workspace is made only on an empty database).
    pub async fn has_workspaces(&self) -> Result<bool, StoreError> {
        let store = self.store.clone();
        super::run_blocking(move || Ok(unscoped::count_workspaces(&store)? > 0)).await
    }
}
