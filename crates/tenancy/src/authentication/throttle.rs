//! The throttle of failed attempts: per workspace and token prefix, in fixed windows counted from
//! the first attempt. Only prefixes that name a real token are ever counted (an unknown one is
//! refused before argon2), so guessing at a workspace cannot lock its identity provider out.
//!
//! An attempt takes its slot before argon2 runs and gives it back only when the secret verified:
//! a burst of wrong secrets that arrive together cannot all pass the throttle before the first of
//! them has failed, and an attempt abandoned half way (its client hung up) counts as a failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use webwork_scim_domain::WorkspaceId;

use crate::token::TokenPrefix;

/// The slots of one (workspace, prefix) taken in the current window: failures and attempts
/// still running.
#[derive(Debug)]
struct Window {
    started: Instant,
    taken: AtomicU32,
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

/// A slot taken by one attempt: kept as a failure unless [`Slot::release`]d.
#[must_use = "a slot is a failure unless released"]
#[derive(Debug)]
pub struct Slot(Arc<Window>);

impl Slot {
    /// The attempt succeeded: its slot is free again.
    pub fn release(self) {
        self.0.taken.fetch_sub(1, Ordering::AcqRel);
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

    /// `Err` with the time left in the window when this prefix's slots are all taken.
    pub fn check(&self, attempt: &(WorkspaceId, TokenPrefix)) -> Result<(), Duration> {
        match self.windows.get(attempt) {
            Some(window) if window.taken.load(Ordering::Acquire) >= self.limit => {
                Err(self.window.saturating_sub(window.started.elapsed()))
            }
            _ => Ok(()),
        }
    }

    /// A slot for one attempt on this prefix, or `Err` with the time left in the window when
    /// its failures and the attempts running fill it.
    pub fn reserve(&self, attempt: &(WorkspaceId, TokenPrefix)) -> Result<Slot, Duration> {
        let window = self.windows.get_with_by_ref(attempt, || {
            Arc::new(Window {
                started: Instant::now(),
                taken: AtomicU32::new(0),
            })
        });
        let full = || self.window.saturating_sub(window.started.elapsed());
        window
            .taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < self.limit).then_some(taken + 1)
            })
            .map_err(|_| full())?;
        Ok(Slot(window))
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
        let failures: Vec<Slot> = (0..3).map(|_| throttle.reserve(&one).unwrap()).collect();
        let wait = throttle.reserve(&one).unwrap_err();
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert_eq!(failures.len(), 3);
        assert!(throttle.reserve(&(acme, prefix("bbbbbbbbbbbb"))).is_ok());
        assert!(throttle.reserve(&(globex, prefix("aaaaaaaaaaaa"))).is_ok());
    }

    #[test]
    fn attempts_running_at_once_take_slots_and_successes_give_them_back() {
        let throttle = Arc::new(FailureThrottle::new(5, Duration::from_secs(60), 100));
        let attempt = (WorkspaceId::generate(), prefix("aaaaaaaaaaaa"));
        // Many attempts at the same moment: no more than the limit get a slot.
        let admitted: usize = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..16)
                .map(|_| {
                    scope.spawn(|| {
                        (0..50)
                            .filter(|_| throttle.reserve(&attempt).is_ok())
                            .count()
                    })
                })
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).sum()
        });
        assert_eq!(admitted, 5);
        let fresh = FailureThrottle::new(2, Duration::from_secs(60), 100);
        for _ in 0..10 {
            fresh.reserve(&attempt).unwrap().release();
        }
        let kept = fresh.reserve(&attempt).unwrap();
        let _also = fresh.reserve(&attempt).unwrap();
        assert!(fresh.reserve(&attempt).is_err());
        drop(kept);
        assert!(
            fresh.reserve(&attempt).is_err(),
            "a dropped slot stays a failure"
        );
    }

    #[test]
    fn a_window_ends_with_its_time_to_live() {
        let throttle = FailureThrottle::new(1, Duration::from_millis(30), 100);
        let attempt = (WorkspaceId::generate(), prefix("aaaaaaaaaaaa"));
        let _failed = throttle.reserve(&attempt).unwrap();
        assert!(throttle.reserve(&attempt).is_err());
        let deadline = Instant::now() + Duration::from_secs(5);
        while throttle.reserve(&attempt).is_err() {
            assert!(Instant::now() < deadline, "the window never ended");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
