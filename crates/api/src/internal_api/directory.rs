//! The directory of a workspace for WebWork's services: users by id, `userName`, email or
//! `externalId`, and the bulk link of WebWork's existing members.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use webwork_scim_domain::{Actor, AuditEvent, DomainError, UserDraft, UserName};
use webwork_scim_persistence::users::{self, ListQuery};
use webwork_scim_persistence::{StoreError, audit};

use super::ServiceAuth;
use crate::admin_api::{AdminApiError, AdminBody, Answer, parse, views};
use crate::blocking::run_blocking;
use webwork_scim_tenancy::effective_entitlements;

use crate::{ApiError, AppState, admin, lifecycle};

/// The most members one bulk request may carry.
const MAX_MEMBERS: usize = 1000;

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

fn equals(path: AttrPath, value: &str) -> Filter {
    Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::String(value.to_owned()),
    }
}

impl Lookup {
    /// The conjunction of the given criteria, or none.
    fn filter(&self) -> Result<Option<Filter>, ApiError> {
        let mut parts = Vec::new();
        for (value, field) in [
            (&self.user_name, "userName"),
            (&self.email, "email"),
            (&self.external_id, "externalId"),
        ] {
            if let Some(value) = value {
                views::plain_text(value, field, 256)?;
            }
        }
        if let Some(name) = &self.user_name {
            parts.push(equals(AttrPath::simple("userName"), name));
        }
        if let Some(email) = &self.email {
            let path = AttrPath {
                urn: None,
                name: "emails".into(),
                sub: Some("value".into()),
            };
            parts.push(equals(path, email));
        }
        if let Some(external) = &self.external_id {
            parts.push(equals(AttrPath::simple("externalId"), external));
        }
        Ok(parts
            .into_iter()
            .reduce(|all, next| Filter::And(Box::new(all), Box::new(next))))
    }
}

pub(super) async fn users(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    key: web::Path<String>,
    query: web::Query<Lookup>,
) -> Answer {
    let filter = query.filter()?;
    let offset = query.offset.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let store = state.store.clone();
    let page = run_blocking(move || -> Result<_, AdminApiError> {
        let workspace = admin::find_workspace(&store, &key)?;
        let page = store.read(workspace.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: filter.as_ref(),
                    offset,
                    limit,
                },
            )
        })?;
        Ok(page)
    })
    .await??;
    let items: Vec<Value> = page.users.iter().map(lifecycle::user_view).collect();
    Ok(HttpResponse::Ok().json(json!({"total": page.total, "offset": offset, "items": items})))
}

pub(super) async fn user(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    let store = state.store.clone();
    let user = run_blocking(move || admin::get_user(&store, &key, &id)).await??;
    Ok(HttpResponse::Ok().json(lifecycle::user_view(&user)))
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

/// Links WebWork's existing members: a member whose `userName` is already here keeps its SCIM
/// data and gets its roles; any other is created. All or nothing, in one transaction, so that
/// Okta's `userName eq` look-up then finds and links them instead of creating duplicates.
pub(super) async fn upsert_members(
    state: web::Data<AppState>,
    auth: ServiceAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    let request: Members = parse(body)?;
    if request.members.len() > MAX_MEMBERS {
        return Err(ApiError::Domain(DomainError::invalid_value(format!(
            "at most {MAX_MEMBERS} members per request"
        )))
        .into());
    }
    let store = state.store.clone();
    let actor = Actor::Subject(auth.subject);
    let results = run_blocking(move || -> Result<Vec<Value>, AdminApiError> {
        let workspace = admin::find_workspace(&store, &key)?;
        let seats = effective_entitlements(&workspace, time::OffsetDateTime::now_utc()).seats;
        let results = store.write(workspace.id, |tx| -> Result<Vec<Value>, ApiError> {
            let mut results = Vec::with_capacity(request.members.len());
            // Members created active take seats like any other user.
            let mut used = match seats {
                Some(_) => {
                    users::lock_workspace(tx)?;
                    users::count_active(tx, None)?
                }
                None => 0,
            };
            for (index, member) in request.members.iter().enumerate() {
                let invalid = |err: DomainError| ApiError::Domain(DomainError::invalid_value(format!("members[{index}]: {err}")));
                for role in member.roles.iter().flatten() {
                    views::plain_text(role, "roles", 64).map_err(|err| {
                        ApiError::Domain(DomainError::invalid_value(format!("members[{index}]: {}", err.detail())))
                    })?;
                }
                let name = UserName::parse(&member.user_name).map_err(invalid)?;
                let (user, created, events) = match users::find_by_user_name(tx, &name)? {
                    Some(existing) => {
                        let changed = member.roles.as_ref().is_some_and(|roles| *roles != existing.app_roles);
                        let events = if changed {
                            vec![AuditEvent::new("user.updated", existing.id).with_attributes(vec!["roles".into()])]
                        } else {
                            Vec::new()
                        };
                        (existing, false, events)
                    }
                    None => {
                        let mut scim = json!({"userName": member.user_name, "active": member.active});
                        if let Some(email) = &member.email {
                            scim["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
                        }
                        if let Some(display) = &member.display_name {
                            scim["displayName"] = json!(display);
                        }
                        let draft = UserDraft::from_scim(&scim).map_err(invalid)?;
                        if let (Some(seats), true) = (seats, draft.active) {
                            if used >= i64::from(seats) {
                                return Err(ApiError::SeatLimit { used, seats });
                            }
                            used += 1;
                        }
                        let user = users::insert(tx, &draft, None)?;
                        let event = AuditEvent::new("user.created", user.id).with_attributes(vec!["userName".into(), "roles".into()]);
                        (user, true, vec![event])
                    }
                };
                if let Some(roles) = &member.roles {
                    users::set_app_roles(tx, user.id, roles)?;
                }
                let user = users::find(tx, user.id)?.ok_or(StoreError::Concurrent)?;
                audit::record_all(tx, &actor, None, &events)?;
                lifecycle::enqueue_user_events(tx, (workspace.id, &workspace.key), &actor, &user, &events)?;
                results.push(json!({"userName": user.user_name, "id": user.id.to_string(), "created": created}));
            }
            Ok(results)
        })?;
        Ok(results)
    })
    .await??;
    let created = results
        .iter()
        .filter(|r| r["created"] == json!(true))
        .count();
    Ok(HttpResponse::Ok()
        .json(json!({"created": created, "linked": results.len() - created, "members": results})))
}
