//! The credential check of WebWork's login: the password that Okta set (or synced) for a user.
//! The policy (single sign-on enforcement, a dummy argon2 run for unknown users, deactivation
//! told only to the holder of the right password) is `tenancy::credentials`'.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use webwork_scim_tenancy::CredentialVerdict;

use super::ServiceAuth;
use crate::AppState;
use crate::admin_api::{AdminBody, Answer, parse};
use crate::error::PROBLEM_CONTENT_TYPE;
use crate::usecases::credentials::CredentialOutcome;

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

pub(super) async fn verify(
    state: web::Data<AppState>,
    _auth: ServiceAuth,
    key: web::Path<String>,
    AdminBody(body): AdminBody,
) -> Answer {
    let request: Credentials = parse(body)?;
    let outcome = state
        .use_cases
        .check_credentials(&key, &request.user_name, request.password)
        .await?;
    Ok(match outcome {
        CredentialOutcome::Accepted(user) => HttpResponse::Ok().json(json!({
            "user_id": user.id.to_string(),
            "userName": user.user_name,
            "roles": user.app_roles,
            "session_version": user.session_version,
        })),
        CredentialOutcome::Refused(CredentialVerdict::SsoRequired) => refusal(
            StatusCode::FORBIDDEN,
            "sso_required",
            "this workspace signs in through its identity provider only",
        ),
        CredentialOutcome::Refused(CredentialVerdict::Deactivated) => refusal(
            StatusCode::FORBIDDEN,
            "deactivated",
            "the user is deactivated",
        ),
        CredentialOutcome::Refused(_) => refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the user name or password is wrong",
        ),
    })
}
