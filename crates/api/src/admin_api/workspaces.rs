//! Platform endpoints: workspaces, plans, seats, entitlement overrides, export, deletion and
//! erasure.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use webwork_scim_domain::workspace::whole;
use webwork_scim_domain::{DomainError, EntitlementOverrides, Plan, Workspace, WorkspaceName};
use webwork_scim_persistence::workspaces::WorkspaceUpdate;
use webwork_scim_tenancy::effective_entitlements;

use super::{AdminApiError, AdminAuth, AdminBody, Answer, parse, text, views};
use crate::AppState;
use crate::scim::render;
use crate::usecases::workspaces::NewWorkspace;

/// The longest id of an outbox event.
const MAX_EVENT_ID_CHARS: usize = 64;

fn plan(raw: &str) -> Result<Plan, AdminApiError> {
    Ok(raw.parse::<Plan>()?)
}

pub(super) fn workspace_json(state: &AppState, ws: &Workspace) -> Value {
    let effective = effective_entitlements(ws, OffsetDateTime::now_utc());
    views::workspace(ws, &state.scim_base_url(ws.key.as_str()), &effective)
}

fn ok(body: &Value) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWorkspace {
    name: String,
    plan: String,
    #[serde(default)]
    sso_enabled: bool,
    #[serde(default, deserialize_with = "whole::option_u32")]
    seats: Option<u32>,
}

pub(super) async fn create(
    state: web::Data<AppState>,
    auth: AdminAuth,
    AdminBody(body): AdminBody,
) -> Answer {
    auth.require_platform()?;
    let request: CreateWorkspace = parse(body)?;
    let new = NewWorkspace {
        name: WorkspaceName::parse(&request.name)?,
        plan: plan(&request.plan)?,
        sso_enabled: request.sso_enabled,
        seats: request.seats,
    };
    let ws = state
        .use_cases
        .create_workspace(&auth.caller(), new)
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(workspace_json(&state, &ws)))
}

#[derive(Deserialize)]
pub(super) struct Page {
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

impl Page {
    pub(super) fn window(&self) -> (i64, i64) {
        (
            self.offset.unwrap_or(0).max(0),
            self.limit.unwrap_or(100).clamp(1, 1000),
        )
    }
}

pub(super) async fn list(
    state: web::Data<AppState>,
    auth: AdminAuth,
    page: web::Query<Page>,
) -> Answer {
    auth.require_platform()?;
    let (offset, limit) = page.window();
    let (total, workspaces) = state.use_cases.list_workspaces(offset, limit).await?;
    let items: Vec<Value> = workspaces
        .iter()
        .map(|ws| workspace_json(&state, ws))
        .collect();
    Ok(ok(
        &json!({"total": total, "offset": offset, "items": items}),
    ))
}

pub(super) async fn read(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_workspace(&key)?;
    let ws = state.use_cases.find_workspace(&key).await?;
    Ok(ok(&workspace_json(&state, &ws)))
}

/// Runs a change to workspace `key`.
async fn change(
    state: &AppState,
    key: String,
    update: WorkspaceUpdate,
    auth: &AdminAuth,
) -> Answer {
    let ws = state
        .use_cases
        .update_workspace(&auth.caller(), &key, update)
        .await?;
    Ok(ok(&workspace_json(state, &ws)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPlan {
    plan: String,
}

pub(super) async fn set_plan(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    auth.require_platform()?;
    let request: SetPlan = parse(body)?;
    let update = WorkspaceUpdate {
        plan: Some(plan(&request.plan)?),
        ..WorkspaceUpdate::default()
    };
    change(&state, key.into_inner(), update, &auth).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSeats {
    #[serde(default, deserialize_with = "whole::option_u32")]
    seats: Option<u32>,
}

pub(super) async fn set_seats(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    auth.require_platform()?;
    let request: SetSeats = parse(body)?;
    let update = WorkspaceUpdate {
        seats: Some(request.seats),
        ..WorkspaceUpdate::default()
    };
    change(&state, key.into_inner(), update, &auth).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetOverrides {
    overrides: EntitlementOverrides,
    #[serde(default)]
    expires_at: Option<String>,
}

pub(super) async fn set_overrides(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    auth.require_platform()?;
    if !body.get("overrides").is_some_and(Value::is_object) {
        return Err(DomainError::invalid_value("'overrides' must be a JSON object").into());
    }
    let request: SetOverrides = parse(body)?;
    let expires_at = views::parse_time(request.expires_at.as_deref(), "expires_at")?;
    let update = WorkspaceUpdate {
        overrides: Some((Some(request.overrides), expires_at)),
        ..WorkspaceUpdate::default()
    };
    change(&state, key.into_inner(), update, &auth).await
}

pub(super) async fn clear_overrides(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_platform()?;
    let update = WorkspaceUpdate {
        overrides: Some((None, None)),
        ..WorkspaceUpdate::default()
    };
    change(&state, key.into_inner(), update, &auth).await
}

pub(super) async fn export(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_platform()?;
    let export = state.use_cases.export_workspace(&key).await?;
    let (ws, users, groups) = (export.workspace, export.users, export.groups);
    let base = state.scim_base_url(ws.key.as_str());
    let users: Vec<Value> = users
        .into_iter()
        .map(|user| render::user(user, &base))
        .collect();
    let groups: Vec<Value> = groups
        .iter()
        .map(|group| render::group(group, &base))
        .collect();
    Ok(ok(&json!({
        "workspace": workspace_json(&state, &ws),
        "exported_at": views::time(Some(OffsetDateTime::now_utc())),
        "users": users,
        "groups": groups,
    })))
}

pub(super) async fn delete(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_platform()?;
    let ws = state
        .use_cases
        .delete_workspace(&auth.caller(), &key)
        .await?;
    let purge_after = OffsetDateTime::now_utc() + state.config.workspace_deletion_grace;
    Ok(HttpResponse::Accepted().json(json!({
        "key": ws.key.as_str(),
        "deleted": true,
        "data_purged_after": views::time(Some(purge_after)),
    })))
}

pub(super) async fn erase_user(
    state: web::Data<AppState>,
    auth: AdminAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    auth.require_platform()?;
    let (key, id) = path.into_inner();
    state
        .use_cases
        .erase_user(&auth.caller(), &key, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Replay {
    #[serde(default)]
    event_id: Option<String>,
}

/// Gives every workspace's dead lifecycle events a fresh start, after an outage of WebWork's app
/// longer than the events' horizon. No body is read.
pub(super) async fn replay_all_outboxes(state: web::Data<AppState>, auth: AdminAuth) -> Answer {
    auth.require_platform()?;
    let replayed = state.use_cases.replay_all_outboxes(&auth.caller()).await?;
    Ok(ok(&json!({"replayed": replayed})))
}

/// Gives the workspace's dead lifecycle events (or one of them) a fresh start.
pub(super) async fn replay_outbox(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    body: super::OptionalAdminBody,
) -> Answer {
    auth.require_platform()?;
    let request: Replay = match body.0 {
        Some(value) => parse(value)?,
        None => Replay::default(),
    };
    let event_id = text(request.event_id.as_deref(), "event_id", MAX_EVENT_ID_CHARS)?;
    let replayed = state
        .use_cases
        .replay_outbox(&auth.caller(), &key, event_id)
        .await?;
    Ok(ok(&json!({"replayed": replayed})))
}
