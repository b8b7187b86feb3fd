//! Per-workspace request limits (a token bucket per workspace, per replica) and the record of
//! when each token was last used.
//!
//! The buckets are written here rather than taken from a rate-limiting crate because each
//! workspace's rate comes from its entitlements and may change with its plan at any request, and
//! because the clock is passed in, which keeps the rules testable without sleeping. Which buckets
//! are kept is moka's business: idle ones are dropped after a while, and there are never more
//! than the capacity.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use webwork_scim_domain::{TokenId, WorkspaceId};

/// A bucket idle this long is full again anyway, whatever its rate: forgetting it loses
/// nothing.
const IDLE: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// One token bucket per workspace.
pub struct RateLimiter {
    buckets: moka::sync::Cache<WorkspaceId, Arc<Mutex<Bucket>>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(capacity: u64) -> RateLimiter {
        RateLimiter {
            buckets: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(IDLE)
                .build(),
        }
    }

    /// Takes one request from `workspace`'s bucket of `burst` requests refilled at
    /// `per_second`, as `(per_second, burst)`. `Err` holds how long until a request would be
    /// allowed. A rate of 0 means no limit.
    pub fn check(
        &self,
        workspace: WorkspaceId,
        (per_second, burst): (u32, u32),
        now: Instant,
    ) -> Result<(), Duration> {
        if per_second == 0 {
            return Ok(());
        }
        let rate = f64::from(per_second);
        let capacity = f64::from(burst.max(1));
        let bucket = self.buckets.get_with(workspace, || {
            Arc::new(Mutex::new(Bucket {
                tokens: capacity,
                refilled: now,
            }))
        });
        let mut bucket = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.refilled = now.max(bucket.refilled);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// Remembers when each token's use was last written, so that `last_used_at` is written at most
/// once per interval per token.
pub struct UseRecorder {
    written: moka::sync::Cache<TokenId, ()>,
}

impl std::fmt::Debug for UseRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseRecorder").finish_non_exhaustive()
    }
}

impl UseRecorder {
    pub fn new(every: Duration, capacity: u64) -> UseRecorder {
        UseRecorder {
            written: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(every.max(Duration::from_millis(1)))
                .build(),
        }
    }

    /// Whether a use of `token` now should be written; if so, it counts as written.
    pub fn due(&self, token: TokenId) -> bool {
        self.written.entry(token).or_insert(()).is_fresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let limiter = RateLimiter::new(100);
        let ws = WorkspaceId::generate();
        let start = Instant::now();
        for _ in 0..10 {
            assert!(limiter.check(ws, (2, 10), start).is_ok());
        }
        let wait = limiter.check(ws, (2, 10), start).unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        let later = start + Duration::from_millis(500);
        assert!(limiter.check(ws, (2, 10), later).is_ok());
        assert!(limiter.check(ws, (2, 10), later).is_err());
    }

    #[test]
    fn workspaces_have_separate_buckets_and_zero_means_unlimited() {
        let limiter = RateLimiter::new(100);
        let (noisy, quiet) = (WorkspaceId::generate(), WorkspaceId::generate());
        let now = Instant::now();
        while limiter.check(noisy, (1, 3), now).is_ok() {}
        assert!(limiter.check(quiet, (1, 3), now).is_ok());
        for _ in 0..1000 {
            assert!(limiter.check(noisy, (0, 0), now).is_ok());
        }
    }

    #[test]
    fn a_use_is_due_once_per_interval() {
        let recorder = UseRecorder::new(Duration::from_secs(60), 100);
        let token = TokenId::generate();
        assert!(recorder.due(token));
        assert!(!recorder.due(token));
        assert!(recorder.due(TokenId::generate()));
    }
}
