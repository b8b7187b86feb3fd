//! The outbox delivery worker's steps that touch the store: claiming a batch of every
//! workspace's due events under a lease, recording each one's outcome, and the backlog's
//! statistics. Each is a short transaction of its own, so that no connection is held while the
//! worker talks HTTP.

use std::time::Duration;

use time::OffsetDateTime;
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::unscoped::delivery::{self, ClaimedEvent, OutboxStats, Retry};

use super::{UseCases, run_blocking};

/// What became of one claimed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not tried (an earlier event of its aggregate failed, or the process is stopping).
    Released,
    Delivered,
    Failed(String),
}

/// What the outbox recorded: delivered, failed (and whether it is now dead), or given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Released,
    Delivered,
    Failed { dead: bool },
}

impl UseCases {
    /// Leases up to `batch` due events for `lease`, oldest first.
    pub async fn claim_events(
        &self,
        lease: Duration,
        batch: i64,
    ) -> Result<Vec<ClaimedEvent>, StoreError> {
        let store = self.store.clone();
        run_blocking(move || {
            let now = OffsetDateTime::now_utc();
            delivery::claim(&store, now, now + lease, batch)
        })
        .await
    }

    /// Records the outcome of a claimed event; a failure is retried after `retry_in`, or is
    /// dead once the event is older than `dead_after`.
    pub async fn record_delivery(
        &self,
        event: ClaimedEvent,
        outcome: Outcome,
        retry_in: Duration,
        dead_after: Duration,
    ) -> Result<Recorded, StoreError> {
        let store = self.store.clone();
        run_blocking(move || {
            let now = OffsetDateTime::now_utc();
            Ok(match outcome {
                Outcome::Released => {
                    delivery::release(&store, &event)?;
                    Recorded::Released
                }
                Outcome::Delivered => {
                    delivery::mark_delivered(&store, &event, now)?;
                    Recorded::Delivered
                }
                Outcome::Failed(error) => {
                    let retry = Retry {
                        at: now + retry_in,
                        dead_after: time::Duration::try_from(dead_after)
                            .unwrap_or(time::Duration::MAX),
                    };
                    let dead = delivery::mark_failed(&store, &event, &error, retry, now)?;
                    Recorded::Failed { dead }
                }
            })
        })
        .await
    }

    /// The backlog across workspaces, for the metrics.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let store = self.store.clone();
        run_blocking(move || delivery::stats(&store, OffsetDateTime::now_utc())).await
    }
}
