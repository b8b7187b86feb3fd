//! The audit log of one workspace: written in the transaction of the change it records, listed
//! newest first.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;
use webwork_scim_domain::{Actor, AuditEvent};

use crate::inserts::insert_row;
use crate::schema::audit_events;
use crate::{StoreError, TenantTx, clock};

/// A stored audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: String,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target_id: Option<String>,
    pub attributes: Vec<String>,
    pub request_id: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct Row {
    id: String,
    at: time::PrimitiveDateTime,
    actor: String,
    action: String,
    target_id: Option<String>,
    attributes: String,
    request_id: Option<String>,
}

/// Which events to list: at most `limit`, older than the event `before` (a cursor), optionally of
/// one action or one target.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogQuery<'a> {
    pub limit: i64,
    pub before: Option<&'a str>,
    pub action: Option<&'a str>,
    pub target_id: Option<&'a str>,
}

/// An audit event's row as written, the workspace aside.
pub(crate) struct NewRow<'a> {
    pub(crate) id: String,
    pub(crate) at: time::PrimitiveDateTime,
    pub(crate) actor: String,
    pub(crate) action: &'static str,
    pub(crate) target_id: Option<&'a str>,
    pub(crate) attributes: String,
    pub(crate) request_id: Option<&'a str>,
}

impl<'a> NewRow<'a> {
    pub(crate) fn of(
        actor: &Actor,
        request_id: Option<&'a str>,
        event: &'a AuditEvent,
    ) -> Result<NewRow<'a>, StoreError> {
        Ok(NewRow {
            id: Uuid::now_v7().to_string(),
            at: clock::now(),
            actor: actor.to_string(),
            action: event.action.as_str(),
            target_id: event.target_id.as_deref(),
            attributes: serde_json::to_string(&event.attributes)
                .map_err(|err| StoreError::Corrupt(err.to_string()))?,
            request_id,
        })
    }
}

pub fn record(
    tx: &mut TenantTx<'_>,
    actor: &Actor,
    request_id: Option<&str>,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let row = NewRow::of(actor, request_id, event)?;
    insert_row!(
        tx,
        audit_events,
        (
            audit_events::id.eq(row.id),
            audit_events::at.eq(row.at),
            audit_events::actor.eq(row.actor),
            audit_events::action.eq(row.action),
            audit_events::target_id.eq(row.target_id),
            audit_events::attributes.eq(row.attributes),
            audit_events::request_id.eq(row.request_id),
        )
    )?;
    Ok(())
}

pub fn record_all(
    tx: &mut TenantTx<'_>,
    actor: &Actor,
    request_id: Option<&str>,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    events
        .iter()
        .try_for_each(|event| record(tx, actor, request_id, event))
}

pub fn list(tx: &mut TenantTx<'_>, query: LogQuery<'_>) -> Result<Vec<AuditRecord>, StoreError> {
    let select = tx.audit_events().refine(|q| {
        let mut select = q.into_boxed();
        if let Some(before) = query.before {
            select = select.filter(audit_events::id.lt(before.to_owned()));
        }
        if let Some(action) = query.action {
            select = select.filter(audit_events::action.eq(action.to_owned()));
        }
        if let Some(target) = query.target_id {
            select = select.filter(audit_events::target_id.eq(target.to_owned()));
        }
        select
            .order(audit_events::id.desc())
            .limit(query.limit)
            .select(Row::as_select())
    });
    tx.load_boxed::<Row, _>(select)?
        .into_iter()
        .map(|row| {
            Ok(AuditRecord {
                attributes: serde_json::from_str(&row.attributes).map_err(|_| {
                    StoreError::Corrupt(format!("audit event {} attributes", row.id))
                })?,
                id: row.id,
                at: clock::from_db(row.at),
                actor: row.actor,
                action: row.action,
                target_id: row.target_id,
                request_id: row.request_id,
            })
        })
        .collect()
}

/// Deletes the workspace's events older than `before`.
pub fn purge_before(tx: &mut TenantTx<'_>, before: OffsetDateTime) -> Result<usize, StoreError> {
    let target = tx
        .audit_events()
        .refine(|q| q.filter(audit_events::at.lt(clock::to_db(before))));
    tx.delete(target)
}
