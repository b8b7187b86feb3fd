//! The directory of a workspace for WebWork's services: users by id, `userName`, email or
//! `externalId`, and the bulk link of WebWork's existing members.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use webwork_scim_domain::Actor;

use super::ServiceAuth;
use crate::AppState;
use crate::admin_api::{AdminApiError, AdminBody, Answer, parse, text};
use crate::usecases::Caller;
use crate::usecases::directory::{MAX_LOOKUP_CHARS, UserLookup, Window};
use crate::usecases::events::user_view;
use crate::usecases::members::{MemberFields, MemberLink};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Lookup {
    #[serde(default, rename = "userName")]
    user_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "externalId")]
    external_id: Option<String>,
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

impl Lookup {
    fn parts(&self) -> Result<(UserLookup, Window), AdminApiError> {
        let bounded =
            |value: &Option<String>, field: &str| text(value.as_deref(), field, MAX_LOOKUP_CHARS);
        let lookup = UserLookup {
            user_name: bounded(&self.user_name, "userName")?,
            email: bounded(&self.email, "email")?,
            external_id: bounded(&self.external_id, "externalId")?,
        };
        let window = Window {
            offset: self.offset.unwrap_or(0).max(0),
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
        };
        Ok((lookup, window))
    }
}

pub(super) async fn users(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    key: web::Path<String>,
    query: web::Query<Lookup>,
) -> Answer {
    let (lookup, window) = query.parts()?;
    let page = state.use_cases.find_users(&key, lookup, window).await?;
    let items: Vec<Value> = page.users.iter().map(user_view).collect();
    Ok(HttpResponse::Ok()
        .json(json!({"total": page.total, "offset": window.offset, "items": items})))
}

pub(super) async fn user(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    let user = state.use_cases.directory_user(&key, &id).await?;
    Ok(HttpResponse::Ok().json(user_view(&user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Member {
    #[serde(rename = "userName")]
    user_name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    /// Absent keeps an existing member's roles.
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    members: Vec<Member>,
}

/// Links WebWork's existing members (see `usecases::members`).
pub(super) async fn upsert_members(
    state: web::Data<AppState>,
    auth: ServiceAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    let request: Members = parse(body)?;
    let members = request
        .members
        .into_iter()
        .enumerate()
        .map(|(index, member)| {
            let fields = MemberFields {
                user_name: member.user_name,
                email: member.email,
                display_name: member.display_name,
                roles: member.roles,
                active: member.active,
            };
            MemberLink::parse(index, fields)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let caller = Caller {
        actor: Actor::Subject(auth.subject),
        request_id: None,
    };
    let linked = state.use_cases.link_members(&caller, &key, members).await?;
    let created = linked.iter().filter(|member| member.created).count();
    let members: Vec<Value> = linked
        .iter()
        .map(|m| json!({"userName": m.user_name, "id": m.id, "created": m.created}))
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"created": created, "linked": linked.len() - created, "members": members})))
}
