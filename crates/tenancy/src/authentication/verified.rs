//! The secrets this replica has verified, so that argon2 runs at most once per token per
//! time-to-live, and the per-token turns that make it once however many requests bring the same
//! secret at the same moment.
//!
//! Nothing here holds a secret: each is kept as a BLAKE2b digest under a key drawn at random when
//! the process starts, and compared in constant time. A digest verified within the time-to-live
//! (counted from its verification) passes without argon2; one verified at any time in the last day
//! is recognised, which lets its token through the failure throttle while someone else's wrong
//! guesses have it closed.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use blake2::{Blake2b256, Digest as _};
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, OwnedMutexGuard};
use webwork_scim_domain::TokenId;

use super::AuthSettings;
use crate::token::PresentedToken;

pub(super) type Digest = [u8; 32];

/// How long a verified digest is recognised by the failure throttle.
const RECOGNISED_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long an idle token's turn is kept.
const TURN_IDLE: Duration = Duration::from_secs(60);

pub(super) struct VerifiedTokens {
    key: [u8; 32],
    /// Each token's digest verified within the time-to-live.
    verified: moka::sync::Cache<TokenId, Digest>,
    /// Each token's digest verified within the last day.
    recognised: moka::sync::Cache<TokenId, Digest>,
    /// One verification per token at a time: requests for a token wait for their turn here, not
    /// in the argon2 queue, and look again at what was verified while they waited.
    turns: moka::sync::Cache<TokenId, Arc<Mutex<()>>>,
    argon2_runs: AtomicU64,
}

impl VerifiedTokens {
    pub(super) fn new(key: [u8; 32], settings: AuthSettings) -> VerifiedTokens {
        let cache = |ttl: Duration| {
            moka::sync::Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build()
        };
        VerifiedTokens {
            key,
            verified: cache(settings.token_ttl),
            recognised: cache(RECOGNISED_FOR),
            turns: moka::sync::Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_idle(TURN_IDLE)
                .build(),
            argon2_runs: AtomicU64::new(0),
        }
    }

    pub(super) fn digest(&self, presented: &PresentedToken) -> Digest {
        Blake2b256::new()
            .chain_update(self.key)
            .chain_update(presented.secret())
            .finalize()
            .into()
    }

    fn holds(cache: &moka::sync::Cache<TokenId, Digest>, id: TokenId, digest: &Digest) -> bool {
        cache
            .get(&id)
            .is_some_and(|stored| bool::from(stored.ct_eq(digest)))
    }

    /// Whether `digest` was verified for token `id` within the time-to-live.
    pub(super) fn contains(&self, id: TokenId, digest: &Digest) -> bool {
        Self::holds(&self.verified, id, digest)
    }

    /// Whether `digest` verified for token `id` within the last day.
    pub(super) fn recognises(&self, id: TokenId, digest: &Digest) -> bool {
        Self::holds(&self.recognised, id, digest)
    }

    /// Waits for token `id`'s turn to verify. Were the entry evicted while held, two
    /// verifications of one token could run at once: more argon2, never a wrong answer.
    pub(super) async fn turn(&self, id: TokenId) -> OwnedMutexGuard<()> {
        let turn = self.turns.get_with(id, || Arc::new(Mutex::new(())));
        turn.lock_owned().await
    }

    /// Runs `check` (argon2) for `digest`, remembering a success.
    pub(super) async fn verify(
        &self,
        id: TokenId,
        digest: Digest,
        check: impl Future<Output = bool>,
    ) -> bool {
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        let verified = check.await;
        if verified {
            self.verified.insert(id, digest);
            self.recognised.insert(id, digest);
        }
        verified
    }

    /// Forgets token `id`, as on revocation.
    pub(super) fn forget(&self, id: TokenId) {
        self.verified.invalidate(&id);
        self.recognised.invalidate(&id);
    }

    /// Forgets every verification but keeps what is recognised, as when the time-to-live ends.
    #[cfg(test)]
    pub(super) fn expire_all(&self) {
        self.verified.invalidate_all();
    }

    pub(super) fn argon2_runs(&self) -> u64 {
        self.argon2_runs.load(Ordering::Relaxed)
    }
}
