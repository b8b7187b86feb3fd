//! The throttle of failed attempts: per workspace and token prefix, in fixed windows counted from
//! the first failure. Only prefixes that name a real token are ever counted (an unknown one is
//! refused before argon2), so guessing at a workspace cannot lock its identity provider out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use webwork_scim_domain::WorkspaceId;

use crate::token::TokenPrefix;

/// Failures of one (workspace, prefix) in the current window.
#[derive(Debug)]
struct Window {
    started: Instant,
    failures: AtomicU32,
}

pub struct FailureThrottle {
    limit: u32,
    window: Duration,
    windows: moka::sync::Cache<(WorkspaceId, TokenPrefix), Arc<Window>>,
}

impl std::fmt::Debug for FailureThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureThrottle")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl FailureThrottle {
    /// `limit` failures per `window`; an entry lives for its window, at most `capacity` at once.
    pub fn new(limit: u32, window: Duration, capacity: u64) -> FailureThrottle {
        FailureThrottle {
            limit,
            window,
            windows: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(window.max(Duration::from_millis(1)))
                .build(),
        }
    }

    /// `Err` with the time left in the window when this prefix has failed too often.
    pub fn check(&self, attempt: &(WorkspaceId, TokenPrefix)) -> Result<(), Duration> {
        match self.windows.get(attempt) {
            Some(window) if window.failures.load(Ordering::Relaxed) >= self.limit => {
                Err(self.window.saturating_sub(window.started.elapsed()))
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, attempt: (WorkspaceId, TokenPrefix)) {
        let window = self.windows.get_with(attempt, || {
            Arc::new(Window {
                started: Instant::now(),
                failures: AtomicU32::new(0),
            })
        });
        window.failures.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(raw: &str) -> TokenPrefix {
        TokenPrefix::parse(raw).unwrap()
    }

    #[test]
    fn failures_are_counted_per_workspace_and_prefix() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(60), 100);
        let (acme, globex) = (WorkspaceId::generate(), WorkspaceId::generate());
        let one = (acme, prefix("aaaaaaaaaaaa"));
        for _ in 0..3 {
            assert!(throttle.check(&one).is_ok());
            throttle.record_failure(one.clone());
        }
        let wait = throttle.check(&one).unwrap_err();
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert!(throttle.check(&(acme, prefix("bbbbbbbbbbbb"))).is_ok());
        assert!(throttle.check(&(globex, prefix("aaaaaaaaaaaa"))).is_ok());
    }

    #[test]
    fn a_window_ends_with_its_time_to_live() {
        let throttle = FailureThrottle::new(1, Duration::from_millis(30), 100);
        let attempt = (WorkspaceId::generate(), prefix("aaaaaaaaaaaa"));
        throttle.record_failure(attempt.clone());
        assert!(throttle.check(&attempt).is_err());
        let deadline = Instant::now() + Duration::from_secs(5);
        while throttle.check(&attempt).is_err() {
            assert!(Instant::now() < deadline, "the window never ended");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
