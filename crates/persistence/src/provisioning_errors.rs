//! Failed provisioning requests of one workspace, recorded best-effort outside the failed
//! transaction so that support can answer "why did Okta's push fail?". Never request bodies.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;
use webwork_scim_domain::text::fold_key;

use crate::audit::LogQuery;
use crate::inserts::insert_row;
use crate::schema::provisioning_errors;
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
    tx.load_boxed::<Row, _>(select)?
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

/// Deletes the workspace's error records whose detail quotes any of `texts` (compared folded, as
/// a client may have sent a name in another case; texts shorter than 3 characters would match
/// nearly anything and are skipped); returns how many. Reads a page at a time.
pub fn discard_mentioning(tx: &mut TenantTx<'_>, texts: &[&str]) -> Result<usize, StoreError> {
    const PAGE: i64 = 500;
    let needles: Vec<String> = texts
        .iter()
        .map(|text| fold_key(text))
        .filter(|needle| needle.chars().count() >= 3)
        .collect();
    if needles.is_empty() {
        return Ok(0);
    }
    let mut after = String::new();
    let mut doomed = Vec::new();
    loop {
        let from = after.clone();
        let page = tx.provisioning_errors().refine(|q| {
            q.filter(provisioning_errors::id.gt(from))
                .order(provisioning_errors::id)
                .limit(PAGE)
                .select((provisioning_errors::id, provisioning_errors::detail))
        });
        let rows: Vec<(String, String)> = tx.load(page)?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        after = last.clone();
        let full = rows.len() == usize::try_from(PAGE).unwrap_or(usize::MAX);
        doomed.extend(rows.into_iter().filter_map(|(id, detail)| {
            let detail = fold_key(&detail);
            needles
                .iter()
                .any(|needle| detail.contains(needle.as_str()))
                .then_some(id)
        }));
        if !full {
            break;
        }
    }
    let mut discarded = 0;
    for chunk in doomed.chunks(500) {
        let ids = chunk.to_vec();
        let target = tx
            .provisioning_errors()
            .refine(|q| q.filter(provisioning_errors::id.eq_any(ids)));
        discarded += tx.delete(target)?;
    }
    Ok(discarded)
}
