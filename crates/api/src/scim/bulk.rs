//! `POST /Bulk` (RFC 7644 §3.7): many operations in one request, each run as its own request
//! would be (its own transaction, its own events), answered in request order.
//!
//! An operation that refers to another's `bulkId` runs after it, wherever it is in the request
//! (a group may list members that later operations create); a reference to a `bulkId` that no
//! operation creates, or to one whose creation failed, or a cycle, is 409 for that operation.
//! With `failOnErrors`, the request stops after that many failures and reports what ran.

use std::collections::{BTreeSet, HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use webwork_scim_domain::bulk::{BULK_RESPONSE, BulkRequest, MAX_OPERATIONS, Operation, Target};
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{DomainError, GroupChange, GroupDraft, UserDraft};

use super::body::JsonBody;
use super::{base_url, groups, render, users};
use crate::usecases::{IfMatch, ScimCaller};
use crate::{ApiError, AppState};

/// What a successful operation reports.
struct Done {
    status: StatusCode,
    location: Option<String>,
    version: Option<String>,
    /// The id a POST created, for the `bulkId` references of later operations.
    created: Option<String>,
}

pub async fn bulk(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    if BulkRequest::count(&body) > MAX_OPERATIONS {
        return Err(ApiError::TooManyOperations(MAX_OPERATIONS));
    }
    let request = BulkRequest::parse(body)?;
    let results = run_all(&state, &tenant, request).await;
    let operations: Vec<Value> = results.into_iter().flatten().collect();
    Ok(render::respond(
        StatusCode::OK,
        &json!({"schemas": [BULK_RESPONSE], "Operations": operations}),
        None,
    ))
}

/// An operation waiting to run, with the bulkIds of this request it refers to.
struct Waiting {
    index: usize,
    op: Operation,
    references: BTreeSet<String>,
}

/// What the operations run so far created and failed to create, by bulkId.
#[derive(Default)]
struct Ledger {
    created: HashMap<String, String>,
    failed: HashSet<String>,
    errors: usize,
}

/// Runs the operations whose references are resolved, pass after pass, until each has run or
/// can never run; `None` for those left when `failOnErrors` stopped the request.
async fn run_all(
    state: &AppState,
    tenant: &ScimCaller,
    request: BulkRequest,
) -> Vec<Option<Value>> {
    let base = base_url(state, tenant);
    let mut results: Vec<Option<Value>> = vec![None; request.operations.len()];
    let (owners, mut pending) = schedule(request.operations);
    let stop = request.fail_on_errors.unwrap_or(usize::MAX);
    let mut ledger = Ledger::default();
    while !pending.is_empty() && ledger.errors < stop {
        let mut waiting = Vec::new();
        let mut progressed = false;
        for mut item in pending {
            if ledger.errors >= stop {
                break;
            }
            let unresolved = item
                .references
                .iter()
                .find(|id| !ledger.created.contains_key(*id))
                .cloned();
            if unresolved
                .as_ref()
                .is_some_and(|id| !ledger.failed.contains(id))
            {
                waiting.push(item);
                continue;
            }
            progressed = true;
            let duplicate =
                item.op.bulk_id.as_ref().is_some_and(|id| {
                    item.op.method == "POST" && owners.get(id) != Some(&item.index)
                });
            let outcome = match (unresolved, duplicate) {
                (Some(id), _) => Err(ApiError::UnresolvedReference(format!(
                    "the operation that creates bulkId '{id}' failed"
                ))),
                (None, true) => Err(DomainError::invalid_value(
                    "an earlier operation of this request has the same bulkId",
                )
                .into()),
                (None, false) => {
                    item.op.resolve(&ledger.created);
                    run_one(state, tenant, &item.op).await
                }
            };
            let entry = report(&item.op, outcome, &base, &mut ledger);
            count(state, &item.op, &entry);
            results[item.index] = Some(entry);
        }
        if !progressed {
            // Every operation left waits for another that waits too: a cycle.
            for item in waiting.drain(..) {
                if ledger.errors >= stop {
                    break;
                }
                let err = ApiError::UnresolvedReference(format!(
                    "the bulkIds {:?} are part of a cycle of references",
                    item.references
                ));
                let entry = report(&item.op, Err(err), &base, &mut ledger);
                count(state, &item.op, &entry);
                results[item.index] = Some(entry);
            }
        }
        pending = waiting;
    }
    results
}

/// The POST that declares each bulkId (the first in the request's order), and every operation
/// with the declared bulkIds it refers to; other `bulkId:` text stays as written.
fn schedule(operations: Vec<Operation>) -> (HashMap<String, usize>, Vec<Waiting>) {
    let mut owners: HashMap<String, usize> = HashMap::new();
    for (index, op) in operations.iter().enumerate() {
        if let (Some(bulk_id), "POST") = (&op.bulk_id, op.method.as_str()) {
            owners.entry(bulk_id.clone()).or_insert(index);
        }
    }
    let pending = operations
        .into_iter()
        .enumerate()
        .map(|(index, op)| {
            let mut references = op.references();
            references.retain(|id| owners.contains_key(id));
            Waiting {
                index,
                op,
                references,
            }
        })
        .collect();
    (owners, pending)
}

/// Counts `op` in the SCIM operation metrics by the status its `entry` reports.
fn count(state: &AppState, op: &Operation, entry: &Value) {
    let status = entry["status"]
        .as_str()
        .and_then(|status| status.parse::<u16>().ok())
        .and_then(|status| StatusCode::from_u16(status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    state
        .metrics
        .observe_bulk_operation(&op.method, &op.path, status);
}

/// Where the resource a PUT, PATCH or DELETE names is.
fn location_of(op: &Operation, base: &str) -> Option<String> {
    match op.target() {
        Ok(Target::User(id)) => Some(format!("{base}/Users/{id}")),
        Ok(Target::Group(id)) => Some(format!("{base}/Groups/{id}")),
        _ => None,
    }
}

/// The response entry of `op`, counting its failure and recording what it created.
fn report(
    op: &Operation,
    outcome: Result<Done, ApiError>,
    base: &str,
    ledger: &mut Ledger,
) -> Value {
    let mut entry = json!({"method": op.method});
    if let Some(bulk_id) = &op.bulk_id {
        entry["bulkId"] = json!(bulk_id);
    }
    match outcome {
        Ok(done) => {
            if let (Some(bulk_id), Some(id)) = (&op.bulk_id, done.created) {
                ledger.created.insert(bulk_id.clone(), id);
            }
            if let Some(location) = done.location.or_else(|| location_of(op, base)) {
                entry["location"] = json!(location);
            }
            if let Some(version) = done.version {
                entry["version"] = json!(render::weak_etag(&version));
            }
            entry["status"] = json!(done.status.as_str());
        }
        Err(err) => {
            ledger.errors += 1;
            if let Some(bulk_id) = &op.bulk_id {
                ledger.failed.insert(bulk_id.clone());
            }
            if let Some(location) = location_of(op, base) {
                entry["location"] = json!(location);
            }
            err.log();
            let (status, body) = err.scim_body();
            entry["status"] = json!(status.as_str());
            entry["response"] = body;
        }
    }
    entry
}

fn data(op: &Operation) -> Result<&Value, ApiError> {
    op.data
        .as_ref()
        .ok_or_else(|| DomainError::InvalidSyntax(format!("{} takes 'data'", op.method)).into())
}

fn expected(op: &Operation) -> Option<IfMatch> {
    op.version.as_deref().map(IfMatch::parse)
}

/// Runs one operation as its single request would run.
async fn run_one(state: &AppState, tenant: &ScimCaller, op: &Operation) -> Result<Done, ApiError> {
    match op.target()? {
        Target::Users => create(state, tenant, op, "Users").await,
        Target::Groups => create(state, tenant, op, "Groups").await,
        Target::User(raw) => change_user(state, tenant, op, &raw).await,
        Target::Group(raw) => change_group(state, tenant, op, &raw).await,
    }
}

fn done(status: StatusCode, location: Option<String>, version: Option<String>) -> Done {
    Done {
        status,
        location,
        version,
        created: None,
    }
}

/// A POST to `/Users` or `/Groups` (`kind`).
async fn create(
    state: &AppState,
    tenant: &ScimCaller,
    op: &Operation,
    kind: &str,
) -> Result<Done, ApiError> {
    if op.bulk_id.is_none() {
        return Err(DomainError::invalid_value("a POST operation takes a bulkId").into());
    }
    let uses = &state.use_cases;
    let (id, version) = if kind == "Users" {
        let user = uses
            .create_user(tenant, UserDraft::from_scim(data(op)?)?)
            .await?;
        (user.id.to_string(), user.etag())
    } else {
        let group = uses
            .create_group(tenant, GroupDraft::from_scim(data(op)?)?, false)
            .await?;
        (group.id.to_string(), group.version.to_string())
    };
    Ok(Done {
        status: StatusCode::CREATED,
        location: Some(format!("{}/{kind}/{id}", base_url(state, tenant))),
        version: Some(version),
        created: Some(id),
    })
}

async fn change_user(
    state: &AppState,
    tenant: &ScimCaller,
    op: &Operation,
    raw: &str,
) -> Result<Done, ApiError> {
    let id = users::user_id(raw)?;
    let uses = &state.use_cases;
    let location = Some(format!("{}/Users/{raw}", base_url(state, tenant)));
    match op.method.as_str() {
        "PUT" => {
            let draft = UserDraft::from_scim(data(op)?)?;
            let user = uses.replace_user(tenant, id, draft, expected(op)).await?;
            Ok(done(StatusCode::OK, location, Some(user.etag())))
        }
        "PATCH" => {
            let patch = PatchRequest::parse(data(op)?.clone())?;
            let user = uses.patch_user(tenant, id, patch, expected(op)).await?;
            Ok(done(StatusCode::OK, location, Some(user.etag())))
        }
        _ => {
            uses.delete_user(tenant, id, expected(op)).await?;
            Ok(done(StatusCode::NO_CONTENT, None, None))
        }
    }
}

async fn change_group(
    state: &AppState,
    tenant: &ScimCaller,
    op: &Operation,
    raw: &str,
) -> Result<Done, ApiError> {
    let id = groups::group_id(raw)?;
    let uses = &state.use_cases;
    let location = Some(format!("{}/Groups/{raw}", base_url(state, tenant)));
    match op.method.as_str() {
        "PUT" => {
            let draft = GroupDraft::from_scim(data(op)?)?;
            let group = uses
                .replace_group(tenant, id, draft, expected(op), false)
                .await?;
            Ok(done(
                StatusCode::OK,
                location,
                Some(group.version.to_string()),
            ))
        }
        "PATCH" => {
            let changes = GroupChange::from_patch(&PatchRequest::parse(data(op)?.clone())?)?;
            uses.patch_group(tenant, id, changes, expected(op), None)
                .await?;
            // As its single request: 204, the group not rendered.
            Ok(done(StatusCode::NO_CONTENT, location, None))
        }
        _ => {
            uses.delete_group(tenant, id, expected(op)).await?;
            Ok(done(StatusCode::NO_CONTENT, None, None))
        }
    }
}
