//! The groups of a workspace for WebWork's services: by id, `displayName` or `externalId`, with
//! their members a page at a time (a group may hold a whole company).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};

use super::ServiceAuth;
use crate::admin_api::{Answer, views};
use crate::blocking::run_blocking;
use crate::{AppState, admin, lifecycle};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Lookup {
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    #[serde(default, rename = "externalId")]
    external_id: Option<String>,
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

impl Lookup {
    fn window(&self) -> (i64, i64) {
        (
            self.offset.unwrap_or(0).max(0),
            self.limit.unwrap_or(100).clamp(1, 1000),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Window {
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

fn equals(name: &str, value: &str) -> Filter {
    Filter::Compare {
        path: AttrPath::simple(name),
        op: CompareOp::Eq,
        value: CompValue::String(value.to_owned()),
    }
}

pub(super) async fn groups(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    key: web::Path<String>,
    query: web::Query<Lookup>,
) -> Answer {
    let mut parts = Vec::new();
    if let Some(name) = &query.display_name {
        views::plain_text(name, "displayName", 256)?;
        parts.push(equals("displayName", name));
    }
    if let Some(external) = &query.external_id {
        views::plain_text(external, "externalId", 256)?;
        parts.push(equals("externalId", external));
    }
    let filter = parts
        .into_iter()
        .reduce(|all, next| Filter::And(Box::new(all), Box::new(next)));
    let (offset, limit) = query.window();
    let store = state.store.clone();
    let page =
        run_blocking(move || admin::list_groups(&store, &key, filter.as_ref(), offset, limit))
            .await??;
    let items: Vec<Value> = page.groups.iter().map(lifecycle::group_view).collect();
    Ok(HttpResponse::Ok().json(json!({"total": page.total, "offset": offset, "items": items})))
}

pub(super) async fn group(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    let store = state.store.clone();
    let group = run_blocking(move || admin::get_group(&store, &key, &id, false)).await??;
    Ok(HttpResponse::Ok().json(lifecycle::group_view(&group)))
}

pub(super) async fn members(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    path: web::Path<(String, String)>,
    query: web::Query<Window>,
) -> Answer {
    let (key, id) = path.into_inner();
    let offset = query.offset.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let store = state.store.clone();
    let (total, members) =
        run_blocking(move || admin::group_members(&store, &key, &id, offset, limit)).await??;
    let items: Vec<Value> = members
        .iter()
        .map(|member| json!({"id": member.user_id.to_string(), "userName": member.user_name}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": total, "offset": offset, "items": items})))
}
