//! Read-only views for a workspace admin: the audit log, the recent provisioning errors, users.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use webwork_scim_persistence::Store;
use webwork_scim_persistence::audit::LogQuery;

use super::workspaces::Page;
use super::{AdminAuth, Answer, views};
use crate::admin::AdminError;
use crate::blocking::run_blocking;
use crate::scim::render;
use crate::{AppState, admin};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogParams {
    #[serde(default)]
    limit: Option<i64>,
    /// The `id` of the last item of the previous page.
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    target_id: Option<String>,
    #[serde(default)]
    scim_type: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

impl LogParams {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }

    fn check(&self) -> Result<(), crate::ApiError> {
        for (value, field) in [
            (&self.before, "before"),
            (&self.action, "action"),
            (&self.target_id, "target_id"),
            (&self.scim_type, "scim_type"),
            (&self.status, "status"),
        ] {
            if let Some(value) = value {
                views::plain_text(value, field, 200)?;
            }
        }
        Ok(())
    }
}

/// One page of a workspace log, newest first: `filters` picks this log's two filters out of the
/// shared parameters, `fetch` reads it, `view` renders an item.
async fn log_page<R: Send + 'static>(
    state: &AppState,
    auth: &AdminAuth,
    key: String,
    params: LogParams,
    filters: fn(&LogParams) -> [Option<&str>; 2],
    fetch: fn(&Store, &str, LogQuery<'_>) -> Result<Vec<R>, AdminError>,
    view: fn(&R) -> Value,
) -> Answer {
    auth.require_workspace(&key)?;
    params.check()?;
    let limit = params.limit();
    let store = state.store.clone();
    let records = run_blocking(move || {
        let [action, target_id] = filters(&params);
        let query = LogQuery {
            limit,
            before: params.before.as_deref(),
            action,
            target_id,
        };
        fetch(&store, &key, query)
    })
    .await??;
    let items = records.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(views::log_page(items, limit)))
}

pub(super) async fn audit_events(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    params: web::Query<LogParams>,
) -> Answer {
    fn filters(p: &LogParams) -> [Option<&str>; 2] {
        [p.action.as_deref(), p.target_id.as_deref()]
    }
    let (key, params) = (key.into_inner(), params.into_inner());
    log_page(
        &state,
        &auth,
        key,
        params,
        filters,
        admin::audit_log,
        views::audit_event,
    )
    .await
}

pub(super) async fn provisioning_errors(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    params: web::Query<LogParams>,
) -> Answer {
    // The error log filters by `scimType` and status in the query's two filter slots.
    fn filters(p: &LogParams) -> [Option<&str>; 2] {
        [p.scim_type.as_deref(), p.status.as_deref()]
    }
    let (key, params) = (key.into_inner(), params.into_inner());
    log_page(
        &state,
        &auth,
        key,
        params,
        filters,
        admin::error_log,
        views::provisioning_error,
    )
    .await
}

pub(super) async fn users(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    page: web::Query<Page>,
) -> Answer {
    auth.require_workspace(&key)?;
    let (offset, limit) = page.window();
    let store = state.store.clone();
    let base = state.scim_base_url(&key);
    let page = run_blocking(move || admin::list_users(&store, &key, offset, limit)).await??;
    let items: Vec<Value> = page
        .users
        .iter()
        .map(|user| render::user(user, &base))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": page.total, "offset": offset, "items": items})))
}

pub(super) async fn user(
    state: web::Data<AppState>,
    auth: AdminAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    auth.require_workspace(&key)?;
    let store = state.store.clone();
    let base = state.scim_base_url(&key);
    let user = run_blocking(move || admin::get_user(&store, &key, &id)).await??;
    Ok(HttpResponse::Ok().json(render::user(&user, &base)))
}

pub(super) async fn groups(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    page: web::Query<Page>,
) -> Answer {
    auth.require_workspace(&key)?;
    let (offset, limit) = page.window();
    let store = state.store.clone();
    let base = state.scim_base_url(&key);
    let page =
        run_blocking(move || admin::list_groups(&store, &key, None, offset, limit)).await??;
    let items: Vec<Value> = page
        .groups
        .iter()
        .map(|group| render::group(group, &base))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": page.total, "offset": offset, "items": items})))
}

pub(super) async fn group(
    state: web::Data<AppState>,
    auth: AdminAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    auth.require_workspace(&key)?;
    let store = state.store.clone();
    let base = state.scim_base_url(&key);
    let group = run_blocking(move || admin::get_group(&store, &key, &id, true)).await??;
    Ok(HttpResponse::Ok().json(render::group(&group, &base)))
}
