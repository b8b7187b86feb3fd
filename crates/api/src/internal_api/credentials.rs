//! The credential check of WebWork's login: the password that Okta set (or synced) for a user.
//!
//! The order of checks gives nothing away: a workspace that enforces SSO refuses every
//! password; an unknown user and a wrong password cost the same argon2 run (against a dummy
//! hash) and get the same 401; only the holder of the right password learns that the user is
//! deactivated.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use webwork_scim_domain::UserName;
use webwork_scim_domain::user::MAX_PASSWORD_BYTES;
use webwork_scim_persistence::users;
use webwork_scim_tenancy::hashing;

use super::ServiceAuth;
use crate::admin_api::{AdminApiError, AdminBody, Answer, parse};
use crate::blocking::{run_argon2, run_blocking};
use crate::error::PROBLEM_CONTENT_TYPE;
use crate::{AppState, admin};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    #[serde(rename = "userName")]
    user_name: String,
    password: String,
}

fn refusal(status: StatusCode, reason: &str, detail: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("content-type", PROBLEM_CONTENT_TYPE))
        .body(
            json!({
                "type": "about:blank",
                "title": status.canonical_reason().unwrap_or("Error"),
                "status": status.as_u16(),
                "detail": detail,
                "reason": reason,
            })
            .to_string(),
        )
}

fn invalid() -> HttpResponse {
    refusal(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the user name or password is wrong",
    )
}

pub(super) async fn verify(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    let request: Credentials = parse(body)?;
    let store = state.store.clone();
    let name = request.user_name.clone();
    let found = run_blocking(move || -> Result<_, AdminApiError> {
        let workspace = admin::find_workspace(&store, &key)?;
        if workspace.sso_enforced {
            return Ok((workspace, None));
        }
        let user = match UserName::parse(&name) {
            Ok(name) => store.read(workspace.id, |tx| {
                let Some(user) = users::find_by_user_name(tx, &name)? else {
                    return Ok::<_, webwork_scim_persistence::StoreError>(None);
                };
                let hash = users::password_hash(tx, user.id)?;
                Ok(Some((user, hash)))
            })?,
            Err(_) => None,
        };
        Ok((workspace, Some(user)))
    })
    .await??;
    let (_, Some(user)) = found else {
        return Ok(refusal(
            StatusCode::FORBIDDEN,
            "sso_required",
            "this workspace signs in through its identity provider only",
        ));
    };
    let password = request.password;
    let (user, hash) = match user {
        Some((user, Some(hash))) => (Some(user), hash),
        _ => (None, hashing::dummy_hash().to_owned()),
    };
    let matches = password.len() <= MAX_PASSWORD_BYTES
        && run_argon2(&state.argon2_permits, move || {
            hashing::verify_secret(password.as_bytes(), &hash)
        })
        .await?;
    let Some(user) = user.filter(|_| matches) else {
        return Ok(invalid());
    };
    if !user.active {
        return Ok(refusal(
            StatusCode::FORBIDDEN,
            "deactivated",
            "the user is deactivated",
        ));
    }
    Ok(HttpResponse::Ok().json(json!({
        "user_id": user.id.to_string(),
        "userName": user.user_name,
        "roles": user.app_roles,
        "session_version": user.session_version,
    })))
}
