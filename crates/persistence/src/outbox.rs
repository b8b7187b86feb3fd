//! The transactional outbox of one workspace: lifecycle events written in the transaction of
//! the change they describe, replayed when dead, and scrubbed on erasure. Their delivery, which
//! crosses workspaces, is [`crate::unscoped::delivery`].

use diesel::prelude::*;
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use webwork_scim_domain::{Actor, AuditEvent};

use crate::inserts::insert_row;
use crate::reused::Reused;
use crate::schema::outbox_events;
use crate::{DbConnection, StoreError, TenantTx, audit, clock};

/// Writes an event about `aggregate_id` in the current tenant transaction; returns its id.
pub fn enqueue(
    tx: &mut TenantTx<'_>,
    aggregate_id: &str,
    event_type: &str,
    payload: &Value,
) -> Result<String, StoreError> {
    let id = Uuid::now_v7().to_string();
    let now = clock::now();
    insert_row!(
        tx,
        outbox_events,
        (
            outbox_events::id.eq(&id),
            outbox_events::aggregate_id.eq(aggregate_id),
            outbox_events::event_type.eq(event_type),
            outbox_events::payload.eq(payload.to_string()),
            outbox_events::created_at.eq(now),
            outbox_events::next_attempt_at.eq(now),
        )
    )?;
    Ok(id)
}

/// Writes `event` to the audit log and its lifecycle event (of the same name) about
/// `aggregate_id` to the outbox; returns the outbox event's id. PostgreSQL writes both rows in
/// one statement, one round trip fewer per change; SQLite, which allows no `INSERT` inside a
/// `WITH`, runs the two inserts in the process.
pub fn enqueue_with_audit(
    tx: &mut TenantTx<'_>,
    (actor, request_id): (&Actor, Option<&str>),
    event: &AuditEvent,
    aggregate_id: &str,
    payload: &Value,
) -> Result<String, StoreError> {
    if !tx.is_postgres() {
        audit::record(tx, actor, request_id, event)?;
        return enqueue(tx, aggregate_id, event.action.as_str(), payload);
    }
    use diesel::sql_types::{Nullable, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        written: i32,
    }
    let row = audit::NewRow::of(actor, request_id, event)?;
    let id = Uuid::now_v7().to_string();
    // A data-modifying WITH runs to its end whether or not the statement reads it; the RETURNING
    // makes the statement a query, which the connection keeps prepared (see `Reused`).
    let both = Reused(
        diesel::sql_query(
            "WITH audit AS (
                 INSERT INTO audit_events
                     (workspace_id, id, at, actor, action, target_id, attributes, request_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8))
             INSERT INTO outbox_events
                 (workspace_id, id, aggregate_id, event_type, payload, created_at, next_attempt_at)
             VALUES ($1, $9, $10, $5, $11, $3, $3)
             RETURNING 1 AS written",
        )
        .bind::<Text, _>(tx.workspace_text())
        .bind::<Text, _>(row.id)
        .bind::<Timestamp, _>(row.at)
        .bind::<Text, _>(row.actor)
        .bind::<Text, _>(row.action)
        .bind::<Nullable<Text>, _>(row.target_id)
        .bind::<Text, _>(row.attributes)
        .bind::<Nullable<Text>, _>(row.request_id)
        .bind::<Text, _>(&id)
        .bind::<Text, _>(aggregate_id)
        .bind::<Text, _>(payload.to_string()),
    );
    let written = tx.run_backend_specific(|conn| match conn {
        DbConnection::Postgres(pg) => both.get_result::<Written>(pg).map(|row| row.written),
        DbConnection::Sqlite(_) => Err(diesel::result::Error::QueryBuilderError(
            "SQLite writes the audit and outbox rows apart".into(),
        )),
    })?;
    debug_assert_eq!(written, 1);
    Ok(id)
}

/// Gives dead events of the workspace (or the one `event_id`) a fresh start; returns how many.
pub fn replay_dead(tx: &mut TenantTx<'_>, event_id: Option<&str>) -> Result<usize, StoreError> {
    // An id that names no dead event of this workspace matches nothing ("" is no event id).
    let target = tx.outbox().refine(|q| {
        q.filter(outbox_events::dead_at.is_not_null()).filter(
            outbox_events::id
                .eq(event_id.unwrap_or_default().to_owned())
                .or(event_id.is_none().into_sql::<diesel::sql_types::Bool>()),
        )
    });
    tx.update(
        target,
        (
            outbox_events::dead_at.eq(None::<PrimitiveDateTime>),
            outbox_events::attempts.eq(0),
            outbox_events::next_attempt_at.eq(clock::now()),
            outbox_events::last_error.eq(None::<String>),
        ),
    )
}

/// The workspace's events, oldest first (for operators and tests).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outbox_events)]
pub struct StoredEvent {
    pub id: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub payload: String,
    pub attempts: i32,
    pub delivered_at: Option<PrimitiveDateTime>,
    pub dead_at: Option<PrimitiveDateTime>,
    pub last_error: Option<String>,
}

pub fn list(tx: &mut TenantTx<'_>) -> Result<Vec<StoredEvent>, StoreError> {
    let query = tx.outbox().refine(|q| {
        q.order(outbox_events::id)
            .select(crate::scope::columns::<StoredEvent>())
    });
    tx.load(query)
}

/// Deletes the workspace's events delivered before `before`.
pub fn purge_delivered_before(
    tx: &mut TenantTx<'_>,
    before: OffsetDateTime,
) -> Result<usize, StoreError> {
    let target = tx
        .outbox()
        .refine(|q| q.filter(outbox_events::delivered_at.lt(clock::to_db(before))));
    tx.delete(target)
}

/// Deletes every event about `aggregate_id`, delivered, waiting or dead, as when its personal
/// data is erased (each carries it); returns how many.
pub fn discard_about(tx: &mut TenantTx<'_>, aggregate_id: &str) -> Result<usize, StoreError> {
    let target = tx
        .outbox()
        .refine(|q| q.filter(outbox_events::aggregate_id.eq(aggregate_id.to_owned())));
    tx.delete(target)
}
