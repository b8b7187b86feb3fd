//! Delivery of every workspace's outbox: claiming a batch under a lease, and recording each
//! event's outcome, each in a short transaction of its own so that no connection is held while
//! the worker talks HTTP.
//!
//! Claiming skips events whose aggregate has an earlier event still undelivered (dead ones
//! included, until they are replayed), so that events of one user arrive in order. On PostgreSQL
//! the claim takes `FOR UPDATE SKIP LOCKED`, so that several replicas share the work without
//! delivering an event twice at once; on SQLite the writing transaction is serial anyway.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use webwork_scim_domain::WorkspaceId;

use crate::schema::outbox_events;
use crate::{DbConnection, Store, StoreError, clock};

/// An event the worker has claimed.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ClaimedEvent {
    #[diesel(sql_type = Text)]
    pub workspace_id: String,
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub aggregate_id: String,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Timestamp)]
    pub created_at: PrimitiveDateTime,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// The lease this claim holds; marks apply only while it is still this one, so a replica
    /// whose lease ran out cannot overwrite another's outcome.
    #[diesel(sql_type = Timestamp)]
    pub locked_until: PrimitiveDateTime,
}

impl ClaimedEvent {
    pub fn created_at(&self) -> OffsetDateTime {
        clock::from_db(self.created_at)
    }
}

/// Leases up to `limit` deliverable events until `lease_until`, oldest first.
pub fn claim(
    store: &Store,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ClaimedEvent>, StoreError> {
    store.outbox(|conn| claim_in(conn, now, lease_until, limit))
}

fn claim_in(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ClaimedEvent>, StoreError> {
    // The same statement on both backends but for the placeholders and the row locks, which only
    // PostgreSQL has (and needs, with several replicas claiming at once).
    let (now, lease_until) = (clock::to_db(now), clock::to_db(lease_until));
    let select = |placeholder: &dyn Fn(usize) -> String, locks: &str| {
        format!(
            "UPDATE outbox_events SET locked_until = {lease}
             WHERE (workspace_id, id) IN (
                 SELECT workspace_id, id FROM outbox_events e
                 WHERE e.delivered_at IS NULL AND e.dead_at IS NULL AND e.next_attempt_at <= {now}
                   AND (e.locked_until IS NULL OR e.locked_until < {now})
                   AND NOT EXISTS (
                       SELECT 1 FROM outbox_events p
                       WHERE p.workspace_id = e.workspace_id AND p.aggregate_id = e.aggregate_id
                         AND p.id < e.id AND p.delivered_at IS NULL)
                 ORDER BY e.id LIMIT {limit} {locks})
             RETURNING workspace_id, id, aggregate_id, event_type, payload, created_at, attempts,
                       locked_until",
            lease = placeholder(1),
            now = placeholder(2),
            limit = placeholder(3),
        )
    };
    let mut claimed = match conn {
        DbConnection::Postgres(pg) => {
            diesel::sql_query(select(&|n| format!("${n}"), "FOR UPDATE SKIP LOCKED"))
                .bind::<Timestamp, _>(lease_until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load::<ClaimedEvent>(pg)?
        }
        DbConnection::Sqlite(lite) => {
            let sql = select(&|n| format!("?{n}"), "");
            diesel::sql_query(sql)
                .bind::<Timestamp, _>(lease_until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load::<ClaimedEvent>(lite)?
        }
    };
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(claimed)
}

/// Marks a claimed event delivered; `false` when the lease had run out and another claim took it.
pub fn mark_delivered(
    store: &Store,
    event: &ClaimedEvent,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    store.outbox(|conn| {
        let updated = diesel::update(outbox_events::table)
            .filter(outbox_events::workspace_id.eq(&event.workspace_id))
            .filter(outbox_events::id.eq(&event.id))
            .filter(outbox_events::locked_until.eq(event.locked_until))
            .set((
                outbox_events::delivered_at.eq(clock::to_db(at)),
                outbox_events::locked_until.eq(None::<PrimitiveDateTime>),
                outbox_events::attempts.eq(event.attempts + 1),
            ))
            .execute(conn)?;
        Ok(updated > 0)
    })
}

/// What becomes of a failed attempt: when to retry, and when the event is old enough to die
/// instead.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub at: OffsetDateTime,
    /// An event written longer than this before its failed attempt is dead.
    pub dead_after: Duration,
}

/// Records a failed attempt: the event is retried at `retry.at`, or dead when it was written
/// more than `retry.dead_after` before `now`. Returns whether it is now dead.
pub fn mark_failed(
    store: &Store,
    event: &ClaimedEvent,
    error: &str,
    retry: Retry,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let dead = now - event.created_at() >= retry.dead_after;
    store.outbox(|conn| {
        let updated = diesel::update(outbox_events::table)
            .filter(outbox_events::workspace_id.eq(&event.workspace_id))
            .filter(outbox_events::id.eq(&event.id))
            .filter(outbox_events::locked_until.eq(event.locked_until))
            .set((
                outbox_events::attempts.eq(event.attempts + 1),
                outbox_events::next_attempt_at.eq(clock::to_db(retry.at)),
                outbox_events::locked_until.eq(None::<PrimitiveDateTime>),
                outbox_events::last_error.eq(error.chars().take(500).collect::<String>()),
                outbox_events::dead_at.eq(dead.then(|| clock::to_db(now))),
            ))
            .execute(conn)?;
        Ok(dead && updated > 0)
    })
}

/// Gives a claimed event back without counting an attempt (an earlier event of its aggregate
/// failed in the same batch).
pub fn release(store: &Store, event: &ClaimedEvent) -> Result<(), StoreError> {
    store.outbox(|conn| {
        diesel::update(outbox_events::table)
            .filter(outbox_events::workspace_id.eq(&event.workspace_id))
            .filter(outbox_events::id.eq(&event.id))
            .filter(outbox_events::locked_until.eq(event.locked_until))
            .set(outbox_events::locked_until.eq(None::<PrimitiveDateTime>))
            .execute(conn)?;
        Ok(())
    })
}

/// The backlog across workspaces, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OutboxStats {
    pub pending: i64,
    pub dead: i64,
    /// Seconds since the oldest undelivered event (pending or dead) was written; 0 without
    /// one.
    pub oldest_pending_age_secs: f64,
}

pub fn stats(store: &Store, now: OffsetDateTime) -> Result<OutboxStats, StoreError> {
    store.outbox(|conn| stats_in(conn, now))
}

fn stats_in(conn: &mut DbConnection, now: OffsetDateTime) -> Result<OutboxStats, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        pending: i64,
        #[diesel(sql_type = BigInt)]
        dead: i64,
        #[diesel(sql_type = Nullable<Timestamp>)]
        oldest: Option<PrimitiveDateTime>,
    }
    let row: Row = diesel::sql_query(
        "SELECT
             COUNT(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS pending,
             COUNT(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
             MIN(created_at) FILTER (WHERE delivered_at IS NULL) AS oldest
         FROM outbox_events",
    )
    .get_result(conn)?;
    let age = row.oldest.map_or(0.0, |oldest| {
        (now - clock::from_db(oldest)).as_seconds_f64().max(0.0)
    });
    Ok(OutboxStats {
        pending: row.pending,
        dead: row.dead,
        oldest_pending_age_secs: age,
    })
}

/// The workspaces that hold dead events, for a replay of them all (each then replayed in a
/// transaction of its own workspace).
pub fn workspaces_with_dead_events(store: &Store) -> Result<Vec<WorkspaceId>, StoreError> {
    store.outbox(|conn| {
        outbox_events::table
            .filter(outbox_events::dead_at.is_not_null())
            .select(outbox_events::workspace_id)
            .distinct()
            .load::<String>(conn)?
            .into_iter()
            .map(|id| {
                id.parse()
                    .map_err(|_| StoreError::Corrupt(format!("outbox workspace id '{id}'")))
            })
            .collect()
    })
}

/// The id of the workspace an event belongs to, parsed.
pub fn workspace_of(event: &ClaimedEvent) -> Result<WorkspaceId, StoreError> {
    event
        .workspace_id
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("outbox workspace id '{}'", event.workspace_id)))
}
