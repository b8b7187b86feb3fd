//! This replica's cache of workspaces and their token records, read from the directory at most
//! a time-to-live ago. A busy workspace's entry is read again in the background once it is half
//! that old, so that its requests keep being served from the cache instead of one of them
//! waiting for the database every time-to-live; nothing older than the time-to-live is ever
//! served.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use webwork_scim_domain::{TokenId, WorkspaceKey};

use super::{CredentialDirectory, LookupError, Resolved};
use crate::token::TokenPrefix;

type Key = (WorkspaceKey, TokenPrefix);

/// What a look-up found: the workspace and token, or `None` for an unknown one, or the
/// directory's failure.
pub(super) type Found = Result<Resolved, Option<LookupError>>;

struct Fetched {
    resolved: Resolved,
    at: Instant,
    /// Whether a background read of this entry has started.
    refreshing: AtomicBool,
}

impl Fetched {
    fn new(resolved: Resolved) -> Arc<Fetched> {
        Arc::new(Fetched {
            resolved,
            at: Instant::now(),
            refreshing: AtomicBool::new(false),
        })
    }
}

pub(super) struct TenantCache {
    entries: moka::future::Cache<Key, Arc<Fetched>>,
    ttl: Duration,
}

pub(super) async fn look_up<D: CredentialDirectory>(
    directory: &D,
    key: WorkspaceKey,
    prefix: TokenPrefix,
) -> Found {
    match directory.resolve(key, prefix).await {
        Ok(Some(resolved)) => Ok(resolved),
        Ok(None) => Err(None),
        Err(err) => Err(Some(err)),
    }
}

impl TenantCache {
    pub(super) fn new(ttl: Duration, capacity: u64) -> TenantCache {
        TenantCache {
            entries: moka::future::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            ttl,
        }
    }

    /// The workspace and token for (key, prefix): from the cache while it is fresh, otherwise
    /// from the directory, one look-up however many requests ask at once.
    pub(super) async fn resolve<D: CredentialDirectory>(
        &self,
        directory: &Arc<D>,
        key: WorkspaceKey,
        prefix: TokenPrefix,
    ) -> Found {
        let entry = self
            .entries
            .try_get_with((key.clone(), prefix.clone()), async {
                look_up(directory.as_ref(), key.clone(), prefix.clone())
                    .await
                    .map(Fetched::new)
            })
            .await
            .map_err(|err| (*err).clone())?;
        if entry.at.elapsed() >= self.ttl / 2 && !entry.refreshing.swap(true, Ordering::AcqRel) {
            self.refresh(directory.clone(), (key, prefix), entry.clone());
        }
        Ok(entry.resolved.clone())
    }

    /// Reads `entry` again in the background and replaces it, unless it was forgotten
    /// meanwhile (a change made here: what this read saw may predate it). A forget that lands
    /// between the check and the insert is not seen; the entry it leaves is still gone at the
    /// time-to-live, the bound every other replica keeps.
    fn refresh<D: CredentialDirectory>(&self, directory: Arc<D>, key: Key, entry: Arc<Fetched>) {
        let entries = self.entries.clone();
        tokio::spawn(async move {
            let found = look_up(directory.as_ref(), key.0.clone(), key.1.clone()).await;
            let current = entries.get(&key).await;
            if !current.is_some_and(|current| Arc::ptr_eq(&current, &entry)) {
                return;
            }
            match found {
                Ok(resolved) => entries.insert(key, Fetched::new(resolved)).await,
                Err(None) => entries.invalidate(&key).await,
                // The entry still expires at its time-to-live; a later request tries again.
                Err(Some(_)) => entry.refreshing.store(false, Ordering::Release),
            }
        });
    }

    pub(super) fn forget_workspace(&self, key: &WorkspaceKey) {
        let key = key.clone();
        // Only fails when closures are not supported, which the builder turned on.
        let _ = self
            .entries
            .invalidate_entries_if(move |(cached, _), _| *cached == key);
    }

    pub(super) fn forget_token(&self, id: TokenId) {
        let _ = self
            .entries
            .invalidate_entries_if(move |_, entry| entry.resolved.token.id == id);
    }
}
