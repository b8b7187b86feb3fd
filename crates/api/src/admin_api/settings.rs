//! A workspace admin's endpoints: the Settings > Single Sign-On page and the SCIM token
//! lifecycle (issue, list, revoke, rotate).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use webwork_scim_domain::workspace::whole;
use webwork_scim_domain::{DomainError, PlainText};

use super::{AdminAuth, AdminBody, Answer, OptionalAdminBody, parse, text, views};
use crate::AppState;
use crate::usecases::sso::{MAX_ISSUER_CHARS, SsoChange};
use crate::usecases::tokens::{MAX_LABEL_CHARS, NewToken};

/// The longest grace a rotation may give the old token.
const MAX_ROTATION_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) async fn sso(
    state: web::Data<AppState>,
    auth: AdminAuth,
    key: web::Path<String>,
) -> Answer {
    auth.require_workspace(&key)?;
    let settings = state.use_cases.sso_settings(&key).await?;
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
    let change = SsoChange {
        enabled: request.enabled,
        enforced: request.enforced,
        idp_issuer: text(
            request.idp_issuer.as_deref(),
            "idp_issuer",
            MAX_ISSUER_CHARS,
        )?,
    };
    let settings = state
        .use_cases
        .change_sso(&auth.caller(), &key, change)
        .await?;
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
    let tokens = state.use_cases.list_tokens(&key).await?;
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
    let label = PlainText::parse("label", request.label.trim(), MAX_LABEL_CHARS)?;
    let token = state
        .use_cases
        .issue_token(&auth.caller(), &key, label, expires_at)
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(new_token_json(&state, &key, &token)))
}

pub(super) async fn revoke_token(
    state: web::Data<AppState>,
    auth: AdminAuth,
    path: web::Path<(String, String)>,
) -> Answer {
    let (key, id) = path.into_inner();
    auth.require_workspace(&key)?;
    let token = state
        .use_cases
        .revoke_token(&auth.caller(), &key, &id)
        .await?;
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
        return Err(DomainError::invalid_value("grace_seconds may be at most 30 days").into());
    }
    let (new, old) = state
        .use_cases
        .rotate_token(&auth.caller(), &key, &id, grace)
        .await?;
    let mut body = new_token_json(&state, &key, &new);
    body["replaces"] = token_json(&state, &old);
    Ok(HttpResponse::build(StatusCode::CREATED).json(body))
}
