//! The cache of resolved callers: for (workspace key, token prefix), the workspace and the token
//! record as last read from the database, for a time-to-live counted from when the entry was
//! filled. It keeps the database off the hot path; a change made on this replica drops the
//! entries it affects at once, and other replicas see it within the time-to-live.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use webwork_scim_domain::{TokenId, Workspace};

use crate::verifier::TokenRecord;

#[derive(Debug, Clone)]
pub struct Resolved {
    pub workspace: Workspace,
    pub token: TokenRecord,
}

#[derive(Debug)]
struct Entry {
    resolved: Resolved,
    filled: Instant,
}

#[derive(Debug)]
pub struct TenantCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl TenantCache {
    pub fn new(ttl: Duration, capacity: usize) -> TenantCache {
        TenantCache {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, workspace_key: &str, prefix: &str, now: Instant) -> Option<Resolved> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&(workspace_key.to_owned(), prefix.to_owned()))
            .filter(|entry| now.saturating_duration_since(entry.filled) < self.ttl)
            .map(|entry| entry.resolved.clone())
    }

    pub fn put(&self, prefix: &str, resolved: Resolved, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, entry| now.saturating_duration_since(entry.filled) < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let key = (
            resolved.workspace.key.as_str().to_owned(),
            prefix.to_owned(),
        );
        entries.insert(
            key,
            Entry {
                resolved,
                filled: now,
            },
        );
    }

    /// Drops every entry of a workspace, after a change to its plan, seats or settings.
    pub fn forget_workspace(&self, workspace_key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(key, _), _| key != workspace_key);
    }

    /// Drops a token's entry, after it was revoked or rotated.
    pub fn forget_token(&self, token: TokenId) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, entry| entry.resolved.token.id != token);
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use webwork_scim_domain::{Plan, WorkspaceId, WorkspaceKey};

    use super::*;

    fn resolved(key: &str) -> Resolved {
        let id = WorkspaceId::generate();
        Resolved {
            workspace: Workspace {
                id,
                key: WorkspaceKey::parse(key).unwrap(),
                name: key.into(),
                plan: Plan::Premium,
                sso_enabled: true,
                sso_enforced: false,
                idp_issuer: None,
                seats: None,
                overrides: None,
                overrides_expire_at: None,
                created_at: OffsetDateTime::now_utc(),
            },
            token: TokenRecord {
                id: TokenId::generate(),
                workspace_id: id,
                secret_hash: String::new(),
                revoked_at: None,
                expires_at: None,
            },
        }
    }

    #[test]
    fn entries_live_for_the_time_to_live_from_filling() {
        let cache = TenantCache::new(Duration::from_secs(5), 10);
        let now = Instant::now();
        cache.put("aaaa", resolved("acme-1"), now);
        assert!(
            cache
                .get("acme-1", "aaaa", now + Duration::from_secs(4))
                .is_some()
        );
        assert!(
            cache
                .get("acme-1", "aaaa", now + Duration::from_secs(5))
                .is_none()
        );
        assert!(cache.get("acme-1", "bbbb", now).is_none());
    }

    #[test]
    fn changes_on_this_replica_drop_entries_at_once() {
        let cache = TenantCache::new(Duration::from_secs(5), 10);
        let now = Instant::now();
        let a = resolved("acme-1");
        let token = a.token.id;
        cache.put("aaaa", a, now);
        cache.put("bbbb", resolved("globex-1"), now);
        cache.forget_token(token);
        assert!(cache.get("acme-1", "aaaa", now).is_none());
        cache.forget_workspace("globex-1");
        assert!(cache.get("globex-1", "bbbb", now).is_none());
    }

    #[test]
    fn a_zero_time_to_live_disables_the_cache() {
        let cache = TenantCache::new(Duration::ZERO, 10);
        let now = Instant::now();
        cache.put("aaaa", resolved("acme-1"), now);
        assert!(cache.get("acme-1", "aaaa", now).is_none());
    }
}
