//! Failed provisioning requests of one workspace, recorded best-effort outside the failed
//! transaction so that support can answer "why did Okta's push fail?". Never request bodies.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::LogQuery;
use crate::schema::provisioning_errors;
use crate::scope::insert_row;
use crate::{StoreError, TenantTx, clock};

/// One failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRequest {
    pub actor: String,
    pub method: String,
    /// The route template, never the raw path.
    pub route: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub detail: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRecord {
    pub id: String,
    pub at: OffsetDateTime,
    pub request: FailedRequest,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = provisioning_errors)]
struct Row {
    id: String,
    at: time::PrimitiveDateTime,
    actor: String,
    method: String,
    route: String,
    status: i32,
    scim_type: Option<String>,
    detail: String,
    request_id: Option<String>,
}

pub fn record(tx: &mut TenantTx<'_>, failed: &FailedRequest) -> Result<(), StoreError> {
    insert_row!(
        tx,
        provisioning_errors,
        (
            provisioning_errors::id.eq(Uuid::now_v7().to_string()),
            provisioning_errors::at.eq(clock::now()),
            provisioning_errors::actor.eq(&failed.actor),
            provisioning_errors::method.eq(&failed.method),
            provisioning_errors::route.eq(&failed.route),
            provisioning_errors::status.eq(i32::from(failed.status)),
            provisioning_errors::scim_type.eq(failed.scim_type.as_deref()),
            provisioning_errors::detail.eq(&failed.detail),
            provisioning_errors::request_id.eq(failed.request_id.as_deref()),
        )
    )?;
    Ok(())
}

/// Newest first; `action` filters by `scimType`, `target_id` by status code.
pub fn list(tx: &mut TenantTx<'_>, query: LogQuery<'_>) -> Result<Vec<ErrorRecord>, StoreError> {
    let select = tx.provisioning_errors().refine(|q| {
        let mut select = q.into_boxed();
        if let Some(before) = query.before {
            select = select.filter(provisioning_errors::id.lt(before.to_owned()));
        }
        if let Some(scim_type) = query.action {
            select = select.filter(provisioning_errors::scim_type.eq(scim_type.to_owned()));
        }
        if let Some(status) = query.target_id.and_then(|s| s.parse::<i32>().ok()) {
            select = select.filter(provisioning_errors::status.eq(status));
        }
        select
            .order(provisioning_errors::id.desc())
            .limit(query.limit)
            .select(Row::as_select())
    });
    tx.load::<Row, _>(select)?
        .into_iter()
        .map(|row| {
            Ok(ErrorRecord {
                id: row.id,
                at: clock::from_db(row.at),
                request: FailedRequest {
                    actor: row.actor,
                    method: row.method,
                    route: row.route,
                    status: u16::try_from(row.status).unwrap_or(0),
                    scim_type: row.scim_type,
                    detail: row.detail,
                    request_id: row.request_id,
                },
            })
        })
        .collect()
}

pub fn purge_before(tx: &mut TenantTx<'_>, before: OffsetDateTime) -> Result<usize, StoreError> {
    let target = tx
        .provisioning_errors()
        .refine(|q| q.filter(provisioning_errors::at.lt(clock::to_db(before))));
    tx.delete(target)
}
