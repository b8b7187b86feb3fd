//! The groups of a workspace for WebWork's services: by id, `displayName` or `externalId`, with
//! their members a page at a time (a group may hold a whole company).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ServiceAuth;
use crate::AppState;
use crate::admin_api::{Answer, text};
use crate::usecases::directory::{GroupLookup, MAX_LOOKUP_CHARS, Window};
use crate::usecases::events::group_view;

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
    fn window(&self) -> Window {
        Window {
            offset: self.offset.unwrap_or(0).max(0),
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Page {
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

pub(super) async fn groups(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    key: web::Path<String>,
    query: web::Query<Lookup>,
) -> Answer {
    let lookup = GroupLookup {
        display_name: text(
            query.display_name.as_deref(),
            "displayName",
            MAX_LOOKUP_CHARS,
        )?,
        external_id: text(query.external_id.as_deref(), "externalId", MAX_LOOKUP_CHARS)?,
    };
    let window = query.window();
    let page = state.use_cases.find_groups(&key, lookup, window).await?;
    let items: Vec<Value> = page.groups.iter().map(group_view).collect();
    Ok(HttpResponse::Ok()
        .json(json!({"total": page.total, "offset": window.offset, "items": items})))
}

pub(super) async fn group(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    let group = state.use_cases.directory_group(&key, &id, false).await?;
    Ok(HttpResponse::Ok().json(group_view(&group)))
}

pub(super) async fn members(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    path: web::Path<(String, String)>,
    query: web::Query<Page>,
) -> Answer {
    let (key, id) = path.into_inner();
    let window = Window {
        offset: query.offset.unwrap_or(0).max(0),
        limit: query.limit.unwrap_or(100).clamp(1, 1000),
    };
    let (total, members) = state.use_cases.group_members(&key, &id, window).await?;
    let items: Vec<Value> = members
        .iter()
        .map(|member| json!({"id": member.user_id.to_string(), "userName": member.user_name}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": total, "offset": window.offset, "items": items})))
}
