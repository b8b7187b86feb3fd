//! A workspace admin's endpoints: the Settings > Single Sign-On page and the SCIM token
//! lifecycle (issue, list, revoke, rotate).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use webwork_scim_domain::DomainError;
use webwork_scim_domain::workspace::whole;
use webwork_scim_persistence::workspaces::WorkspaceUpdate;

use super::{AdminAuth, AdminBody, Answer, OptionalAdminBody, parse, views};
use crate::admin::NewToken;
use crate::blocking::run_blocking;
use crate::{ApiError, AppState, admin};

/// The longest grace a rotation may give the old token.
const MAX_ROTATION_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) async fn sso(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_workspace(&key)?;
    let store = state.store.clone();
    let settings = run_blocking(move || admin::sso_settings(&store, &key)).await??;
    let url = state.scim_base_url(settings.workspace.key.as_str());
    Ok(HttpResponse::Ok().json(views::sso(&settings, &url)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSso {
    enabled: bool,
    #[serde(default)]
    idp_issuer: Option<String>,
    /// Members must sign in through the identity provider (WebWork passwords are refused).
    #[serde(default)]
    enforced: Option<bool>,
}

pub(super) async fn set_sso(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    auth.require_workspace(&key)?;
    let request: SetSso = parse(body)?;
    if let Some(issuer) = &request.idp_issuer {
        views::plain_text(issuer, "idp_issuer", 500)?;
    }
    let update = WorkspaceUpdate {
        sso_enabled: Some(request.enabled),
        sso_enforced: request.enforced,
        idp_issuer: request.idp_issuer.map(Some),
        ..WorkspaceUpdate::default()
    };
    let store = state.store.clone();
    let caller = auth.caller();
    let key = key.into_inner();
    let forget = key.clone();
    let settings = run_blocking(move || {
        let workspace = admin::update_workspace(&store, &caller, &key, update)?;
        admin::sso_settings_of(&store, workspace)
    })
    .await??;
    state.forget_workspace(&forget);
    let url = state.scim_base_url(settings.workspace.key.as_str());
    Ok(HttpResponse::Ok().json(views::sso(&settings, &url)))
}

fn token_json(state: &AppState, token: &webwork_scim_persistence::tokens::TokenSummary) -> Value {
    views::token(
        token,
        state.config.token_expiry_warning,
        OffsetDateTime::now_utc(),
    )
}

fn new_token_json(state: &AppState, key: &str, token: &NewToken) -> Value {
    let mut value = token_json(state, &token.summary);
    value["token"] = json!(token.plaintext);
    value["scim_base_url"] = json!(state.scim_base_url(key));
    value
}

pub(super) async fn tokens(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_workspace(&key)?;
    let store = state.store.clone();
    let tokens = run_blocking(move || admin::list_tokens(&store, &key)).await??;
    let items: Vec<Value> = tokens.iter().map(|t| token_json(&state, t)).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IssueToken {
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires_at: Option<String>,
}

pub(super) async fn issue_token(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    auth.require_workspace(&key)?;
    let request: IssueToken = parse(body)?;
    let expires_at = views::parse_time(request.expires_at.as_deref(), "expires_at")?;
    let store = state.store.clone();
    let caller = auth.caller();
    let key = key.into_inner();
    let issue_key = key.clone();
    let token = run_blocking(move || {
        admin::issue_token(&store, &caller, &issue_key, &request.label, expires_at)
    })
    .await??;
    Ok(HttpResponse::build(StatusCode::CREATED).json(new_token_json(&state, &key, &token)))
}

fn forget_token(state: &AppState, id: webwork_scim_domain::TokenId) {
    state.tenants.forget_token(id);
    state.verifier.forget(id);
}

pub(super) async fn revoke_token(
    state: web::Data<AppState>,
    auth: AdminAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    auth.require_workspace(&key)?;
    let store = state.store.clone();
    let caller = auth.caller();
    let token = run_blocking(move || admin::revoke_token(&store, &caller, &key, &id)).await??;
    forget_token(&state, token.id);
    Ok(HttpResponse::Ok().json(token_json(&state, &token)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotate {
    #[serde(default, deserialize_with = "whole::option_u64")]
    grace_seconds: Option<u64>,
}

pub(super) async fn rotate_token(
    state: web::Data<AppState>,
    auth: AdminAuth,
    path: web::Path<(String, String)>,
    body: OptionalAdminBody,
) -> Answer {
    let (key, id) = path.into_inner();
    auth.require_workspace(&key)?;
    let request: Rotate = match body.0 {
        Some(value) => parse(value)?,
        None => Rotate::default(),
    };
    let grace = request
        .grace_seconds
        .map_or(state.config.rotation_grace, Duration::from_secs);
    if grace > MAX_ROTATION_GRACE {
        return Err(ApiError::Domain(DomainError::invalid_value(
            "grace_seconds may be at most 30 days",
        ))
        .into());
    }
    let store = state.store.clone();
    let caller = auth.caller();
    let rotate_key = key.clone();
    let (new, old) =
        run_blocking(move || admin::rotate_token(&store, &caller, &rotate_key, &id, grace))
            .await??;
    forget_token(&state, old.id);
    let mut body = new_token_json(&state, &key, &new);
    body["replaces"] = token_json(&state, &old);
    Ok(HttpResponse::build(StatusCode::CREATED).json(body))
}
