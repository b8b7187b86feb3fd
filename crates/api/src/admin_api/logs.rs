//! Read-only views for a workspace admin: the audit log, the recent provisioning errors, users.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::workspaces::Page;
use super::{AdminApiError, AdminAuth, Answer, text, views};
use crate::AppState;
use crate::scim::render;
use crate::usecases::directory::{GroupLookup, UserLookup, Window};
use crate::usecases::logs::{LogFilter, MAX_FILTER_CHARS};

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
    /// The filter of one log: `filters` picks its two filters out of the shared parameters.
    fn filter(
        &self,
        filters: fn(&LogParams) -> [Option<&str>; 2],
    ) -> Result<LogFilter, AdminApiError> {
        for (value, field) in [
            (&self.before, "before"),
            (&self.action, "action"),
            (&self.target_id, "target_id"),
            (&self.scim_type, "scim_type"),
            (&self.status, "status"),
        ] {
            text(value.as_deref(), field, MAX_FILTER_CHARS)?;
        }
        let bounded = |value: Option<&str>| text(value, "filter", MAX_FILTER_CHARS);
        let [first, second] = filters(self);
        Ok(LogFilter {
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            before: bounded(self.before.as_deref())?,
            first: bounded(first)?,
            second: bounded(second)?,
        })
    }
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
    auth.require_workspace(&key)?;
    let filter = params.filter(filters)?;
    let limit = filter.limit;
    let records = state.use_cases.audit_log(&key, filter).await?;
    let items = records.iter().map(views::audit_event).collect();
    Ok(HttpResponse::Ok().json(views::log_page(items, limit)))
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
    auth.require_workspace(&key)?;
    let filter = params.filter(filters)?;
    let limit = filter.limit;
    let records = state.use_cases.error_log(&key, filter).await?;
    let items = records.iter().map(views::provisioning_error).collect();
    Ok(HttpResponse::Ok().json(views::log_page(items, limit)))
}

pub(super) async fn users(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    page: web::Query<Page>,
) -> Answer {
    auth.require_workspace(&key)?;
    let (offset, limit) = page.window();
    let base = state.scim_base_url(&key);
    let window = Window { offset, limit };
    let page = state
        .use_cases
        .find_users(&key, UserLookup::default(), window)
        .await?;
    let items: Vec<Value> = page
        .users
        .into_iter()
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
    let base = state.scim_base_url(&key);
    let user = state.use_cases.directory_user(&key, &id).await?;
    Ok(HttpResponse::Ok().json(render::user(user, &base)))
}

pub(super) async fn groups(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    page: web::Query<Page>,
) -> Answer {
    auth.require_workspace(&key)?;
    let (offset, limit) = page.window();
    let base = state.scim_base_url(&key);
    let window = Window { offset, limit };
    let page = state
        .use_cases
        .find_groups(&key, GroupLookup::default(), window)
        .await?;
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
    let base = state.scim_base_url(&key);
    let group = state.use_cases.directory_group(&key, &id, true).await?;
    Ok(HttpResponse::Ok().json(render::group(&group, &base)))
}
