//! Verification of presented tokens against their stored records, with a cache of verified
//! tokens so that argon2 runs at most once per token per process and time-to-live.
//!
//! The cache holds a keyed BLAKE2b digest of each verified secret (the key is random per process),
//! never the secret itself. A presented token is served from the cache only when its digest
//! matches in constant time and the entry is younger than the time-to-live, counted from when it
//! was filled. Revocation and expiry are read from the record on every request, so they take
//! effect at once whatever the cache holds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use blake2::{Blake2b256, Digest};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use webwork_scim_domain::{TokenId, WorkspaceId};

use crate::hashing;
use crate::token::{IssueError, PresentedToken, random_bytes};

/// What the store knows of a token, looked up by (workspace, prefix).
#[derive(Clone)]
pub struct TokenRecord {
    pub id: TokenId,
    pub workspace_id: WorkspaceId,
    pub secret_hash: String,
    pub revoked_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("revoked_at", &self.revoked_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused. Every reason gets the same 401 on the wire; the reason is for
/// metrics and logs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no bearer token")]
    Missing,
    #[error("the bearer token is not shaped like a SCIM token")]
    Malformed,
    #[error("no such token in this workspace")]
    Unknown,
    #[error("the token's secret does not match")]
    WrongSecret,
    #[error("the token was revoked")]
    Revoked,
    #[error("the token has expired")]
    Expired,
}

impl AuthFailure {
    /// A short label for metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::WrongSecret => "wrong_secret",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// The outcome of the cheap first check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Verified from the cache: no argon2 needed.
    Cached,
    /// The secret must be checked with argon2 ([`TokenVerifier::verify_slow`]).
    NeedsHash,
}

#[derive(Debug)]
struct Entry {
    digest: [u8; 32],
    filled: Instant,
}

pub struct TokenVerifier {
    ttl: Duration,
    capacity: usize,
    key: [u8; 32],
    entries: Mutex<HashMap<TokenId, Entry>>,
    /// One lock per token being verified, so that concurrent first requests with the same token
    /// run argon2 once and the others find the cache filled.
    in_flight: Mutex<HashMap<TokenId, Arc<Mutex<()>>>>,
    argon2_runs: AtomicU64,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: every update is a single insert or
    // remove.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TokenVerifier {
    pub fn new(ttl: Duration, capacity: usize) -> Result<TokenVerifier, IssueError> {
        Ok(TokenVerifier {
            ttl,
            capacity: capacity.max(1),
            key: random_bytes::<32>()?,
            entries: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            argon2_runs: AtomicU64::new(0),
        })
    }

    /// Checks revocation and expiry, then the cache. Cheap: no argon2.
    pub fn precheck(
        &self,
        record: &TokenRecord,
        presented: &PresentedToken,
        now: OffsetDateTime,
    ) -> Result<Verdict, AuthFailure> {
        if record.revoked_at.is_some_and(|at| at <= now) {
            self.forget(record.id);
            return Err(AuthFailure::Revoked);
        }
        if record.expires_at.is_some_and(|at| at <= now) {
            self.forget(record.id);
            return Err(AuthFailure::Expired);
        }
        if self.is_cached(record.id, &self.digest(presented)) {
            Ok(Verdict::Cached)
        } else {
            Ok(Verdict::NeedsHash)
        }
    }

    /// Verifies the secret with argon2 and caches the result. CPU-heavy: call it on a blocking
    /// thread, bounded by the caller's semaphore.
    pub fn verify_slow(
        &self,
        record: &TokenRecord,
        presented: &PresentedToken,
    ) -> Result<(), AuthFailure> {
        let digest = self.digest(presented);
        let token_lock = {
            let mut in_flight = lock(&self.in_flight);
            Arc::clone(in_flight.entry(record.id).or_default())
        };
        let outcome = {
            let _verifying = lock(&token_lock);
            if self.is_cached(record.id, &digest) {
                Ok(())
            } else {
                self.argon2_runs.fetch_add(1, Ordering::Relaxed);
                if hashing::verify_secret(presented.secret(), &record.secret_hash) {
                    self.fill(record.id, digest);
                    Ok(())
                } else {
                    Err(AuthFailure::WrongSecret)
                }
            }
        };
        let mut in_flight = lock(&self.in_flight);
        if Arc::strong_count(&token_lock) <= 2 {
            in_flight.remove(&record.id);
        }
        outcome
    }

    /// Drops a token from the cache, as on revocation.
    pub fn forget(&self, id: TokenId) {
        lock(&self.entries).remove(&id);
    }

    /// How many argon2 verifications this verifier has run (the cache misses).
    pub fn argon2_runs(&self) -> u64 {
        self.argon2_runs.load(Ordering::Relaxed)
    }

    pub fn cached_len(&self) -> usize {
        lock(&self.entries).len()
    }

    fn digest(&self, presented: &PresentedToken) -> [u8; 32] {
        Blake2b256::new()
            .chain_update(self.key)
            .chain_update(presented.secret())
            .finalize()
            .into()
    }

    fn is_cached(&self, id: TokenId, digest: &[u8; 32]) -> bool {
        let entries = lock(&self.entries);
        entries.get(&id).is_some_and(|entry| {
            entry.filled.elapsed() < self.ttl && bool::from(entry.digest.ct_eq(digest))
        })
    }

    fn fill(&self, id: TokenId, digest: [u8; 32]) {
        let mut entries = lock(&self.entries);
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.filled.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            id,
            Entry {
                digest,
                filled: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests;
