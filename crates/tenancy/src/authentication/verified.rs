//! The secrets this replica has verified, so that argon2 runs at most once per token per
//! time-to-live, and once however many requests bring the same secret at the same moment.
//!
//! Nothing here holds a secret: each is kept as a BLAKE2b digest under a key drawn at random when
//! the process starts, and compared in constant time. A digest verified within the time-to-live
//! (counted from its verification) passes without argon2; one verified at any time in the last day
//! is recognised, which lets its token through the failure throttle while someone else's wrong
//! guesses have it closed.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use blake2::{Blake2b256, Digest as _};
use subtle::ConstantTimeEq;
use webwork_scim_domain::TokenId;

use super::AuthSettings;
use crate::token::PresentedToken;

pub(super) type Digest = [u8; 32];

/// How long a verified digest is recognised by the failure throttle.
const RECOGNISED_FOR: Duration = Duration::from_secs(24 * 3600);
/// Longer than any verification takes: an entry of `flights` is removed as soon as its
/// verification ends, this only bounds one whose caller went away.
const IN_FLIGHT_AT_MOST: Duration = Duration::from_secs(60);

pub(super) struct VerifiedTokens {
    key: [u8; 32],
    /// Each token's digest verified within the time-to-live.
    verified: moka::sync::Cache<TokenId, Digest>,
    /// Each token's digest verified within the last day.
    recognised: moka::sync::Cache<TokenId, Digest>,
    /// Verifications in flight, by token and digest: requests that bring the same secret at once
    /// wait for one argon2 run and share its outcome.
    flights: moka::future::Cache<(TokenId, Digest), bool>,
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
            flights: moka::future::Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_live(IN_FLIGHT_AT_MOST)
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

    /// Runs `check` (argon2) for `digest` unless a request with the same digest is running it,
    /// in which case its outcome is shared. A success is remembered.
    pub(super) async fn verify_once(
        &self,
        id: TokenId,
        digest: Digest,
        check: impl Future<Output = bool>,
    ) -> bool {
        let verified = self
            .flights
            .get_with((id, digest), async {
                self.argon2_runs.fetch_add(1, Ordering::Relaxed);
                check.await
            })
            .await;
        self.flights.invalidate(&(id, digest)).await;
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
