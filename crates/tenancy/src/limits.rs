//! Per-workspace request limits (a token bucket per workspace, per replica) and the throttle of
//! failed token attempts (per workspace and token prefix, and per workspace; never per client
//! address, since IdPs call from shared addresses).
//!
//! Written here rather than taken from a crate because each workspace's rate comes from its
//! entitlements and may change with its plan at any request, and because the clock is passed in,
//! which keeps the rules testable without sleeping.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use webwork_scim_domain::WorkspaceId;

/// Most workspaces (or attempt keys) remembered at once; idle entries are dropped first.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// One token bucket per workspace.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<WorkspaceId, Bucket>>,
}

impl RateLimiter {
    /// Takes one request from `workspace`'s bucket of `burst` requests refilled at `per_second`.
    /// `Err` holds how long until a request would be allowed. A rate of 0 means no limit.
    pub fn check(
        &self,
        workspace: WorkspaceId,
        per_second: u32,
        burst: u32,
        now: Instant,
    ) -> Result<(), Duration> {
        if per_second == 0 {
            return Ok(());
        }
        let rate = f64::from(per_second);
        let capacity = f64::from(burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_ENTRIES && !buckets.contains_key(&workspace) {
            // Full buckets carry no information: forget them first.
            buckets.retain(|_, bucket| {
                bucket.tokens + now.saturating_duration_since(bucket.refilled).as_secs_f64() * rate
                    < capacity
            });
        }
        let bucket = buckets.entry(workspace).or_insert(Bucket {
            tokens: capacity,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Counts failed token attempts in fixed windows and refuses further attempts, before any argon2
/// work, once a key has failed too often.
#[derive(Debug)]
pub struct FailureThrottle {
    per_prefix: u32,
    per_workspace: u32,
    window: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

impl FailureThrottle {
    pub fn new(per_prefix: u32, per_workspace: u32, window: Duration) -> FailureThrottle {
        FailureThrottle {
            per_prefix,
            per_workspace,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn keys(workspace_key: &str, prefix: &str) -> [(String, bool); 2] {
        [
            (format!("{workspace_key}/{prefix}"), true),
            (workspace_key.to_owned(), false),
        ]
    }

    /// `Err` with the time left in the window when the workspace, or this prefix in it, has
    /// failed too often.
    pub fn check(&self, workspace_key: &str, prefix: &str, now: Instant) -> Result<(), Duration> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, is_prefix) in Self::keys(workspace_key, prefix) {
            let limit = if is_prefix {
                self.per_prefix
            } else {
                self.per_workspace
            };
            if let Some(window) = windows.get(&key) {
                let age = now.saturating_duration_since(window.started);
                if age < self.window && window.failures >= limit {
                    return Err(self.window - age);
                }
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, workspace_key: &str, prefix: &str, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() >= MAX_ENTRIES {
            let span = self.window;
            windows.retain(|_, w| now.saturating_duration_since(w.started) < span);
            if windows.len() >= MAX_ENTRIES {
                windows.clear();
            }
        }
        for (key, _) in Self::keys(workspace_key, prefix) {
            let window = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if now.saturating_duration_since(window.started) >= self.window {
                *window = Window {
                    started: now,
                    failures: 0,
                };
            }
            window.failures = window.failures.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let limiter = RateLimiter::default();
        let ws = WorkspaceId::generate();
        let start = Instant::now();
        for _ in 0..10 {
            assert!(limiter.check(ws, 2, 10, start).is_ok());
        }
        let wait = limiter.check(ws, 2, 10, start).unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert!(
            limiter
                .check(ws, 2, 10, start + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .check(ws, 2, 10, start + Duration::from_millis(500))
                .is_err()
        );
    }

    #[test]
    fn workspaces_have_separate_buckets_and_zero_means_unlimited() {
        let limiter = RateLimiter::default();
        let (noisy, quiet) = (WorkspaceId::generate(), WorkspaceId::generate());
        let now = Instant::now();
        while limiter.check(noisy, 1, 3, now).is_ok() {}
        assert!(limiter.check(quiet, 1, 3, now).is_ok());
        for _ in 0..1000 {
            assert!(limiter.check(noisy, 0, 0, now).is_ok());
        }
    }

    #[test]
    fn failures_are_throttled_per_prefix_and_per_workspace() {
        let throttle = FailureThrottle::new(3, 5, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..3 {
            assert!(throttle.check("acme", "aaaa", now).is_ok());
            throttle.record_failure("acme", "aaaa", now);
        }
        assert!(
            throttle.check("acme", "aaaa", now).is_err(),
            "this prefix is throttled"
        );
        assert!(
            throttle.check("acme", "bbbb", now).is_ok(),
            "another prefix is not yet"
        );
        throttle.record_failure("acme", "bbbb", now);
        throttle.record_failure("acme", "cccc", now);
        assert!(
            throttle.check("acme", "dddd", now).is_err(),
            "the workspace is throttled"
        );
        assert!(
            throttle.check("globex", "aaaa", now).is_ok(),
            "other workspaces are not"
        );
        let later = now + Duration::from_secs(61);
        assert!(throttle.check("acme", "aaaa", later).is_ok(), "windows end");
    }
}

/// Remembers when each token's use was last written, so that `last_used_at` is written at most
/// once per interval per token.
#[derive(Debug)]
pub struct UseRecorder {
    every: Duration,
    written: Mutex<HashMap<webwork_scim_domain::TokenId, Instant>>,
}

impl UseRecorder {
    pub fn new(every: Duration) -> UseRecorder {
        UseRecorder {
            every,
            written: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a use of `token` at `now` should be written; if so, it counts as written.
    pub fn due(&self, token: webwork_scim_domain::TokenId, now: Instant) -> bool {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if written.len() >= MAX_ENTRIES {
            written.clear();
        }
        match written.get(&token) {
            Some(at) if now.saturating_duration_since(*at) < self.every => false,
            _ => {
                written.insert(token, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod use_tests {
    use super::*;

    #[test]
    fn a_use_is_due_once_per_interval() {
        let recorder = UseRecorder::new(Duration::from_secs(60));
        let token = webwork_scim_domain::TokenId::generate();
        let now = Instant::now();
        assert!(recorder.due(token, now));
        assert!(!recorder.due(token, now + Duration::from_secs(59)));
        assert!(recorder.due(token, now + Duration::from_secs(60)));
        assert!(recorder.due(webwork_scim_domain::TokenId::generate(), now));
    }
}
