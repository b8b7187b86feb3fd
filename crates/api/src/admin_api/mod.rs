//! The admin API under `/api/v1`: what WebWork's main app (Settings > Single Sign-On, billing,
//! operators) uses to manage workspaces and their SCIM tokens. JSON in, JSON out, errors as
//! RFC 9457 problem documents; authenticated by JWTs that the main app issues.

mod auth;
mod logs;
mod settings;
mod views;
mod workspaces;

use actix_web::{HttpResponse, ResponseError, web};

pub use auth::AdminAuth;

use crate::ApiError;
use crate::admin::AdminError;
use crate::scim::body::JsonBody;

/// An [`ApiError`] rendered as a problem document.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AdminApiError(#[from] pub ApiError);

impl ResponseError for AdminApiError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.problem_response()
    }
}

impl From<AdminError> for AdminApiError {
    fn from(err: AdminError) -> Self {
        AdminApiError(match err {
            AdminError::Refused(detail) => {
                ApiError::Domain(webwork_scim_domain::DomainError::InvalidValue(detail))
            }
            AdminError::NotFound(detail) => ApiError::NotFound(detail),
            AdminError::Store(err) => ApiError::from(err),
            AdminError::Internal(detail) => ApiError::Internal(detail),
        })
    }
}

type Answer = Result<HttpResponse, AdminApiError>;

/// A JSON request body of the admin API: read like a SCIM body, refused as a problem document.
#[derive(Debug)]
pub struct AdminBody(pub serde_json::Value);

impl actix_web::FromRequest for AdminBody {
    type Error = AdminApiError;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<AdminBody, AdminApiError>>>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let body = <JsonBody as actix_web::FromRequest>::from_request(req, payload);
        Box::pin(async move { Ok(AdminBody(body.await?.0)) })
    }
}

/// Query strings that do not parse are refused as problem documents too.
fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        AdminApiError(ApiError::Domain(
            webwork_scim_domain::DomainError::invalid_value(format!("invalid query: {err}")),
        ))
        .into()
    })
}

pub fn scope() -> actix_web::Scope {
    web::scope("/api/v1")
        .app_data(query_config())
        .service(
            web::resource("/workspaces")
                .route(web::get().to(workspaces::list))
                .route(web::post().to(workspaces::create)),
        )
        .service(
            web::resource("/workspaces/{key}")
                .route(web::get().to(workspaces::read))
                .route(web::delete().to(workspaces::delete)),
        )
        .route(
            "/workspaces/{key}/plan",
            web::put().to(workspaces::set_plan),
        )
        .route(
            "/workspaces/{key}/seats",
            web::put().to(workspaces::set_seats),
        )
        .service(
            web::resource("/workspaces/{key}/entitlement-overrides")
                .route(web::put().to(workspaces::set_overrides))
                .route(web::delete().to(workspaces::clear_overrides)),
        )
        .route(
            "/workspaces/{key}/export",
            web::get().to(workspaces::export),
        )
        .route(
            "/workspaces/{key}/users/{id}/erase",
            web::post().to(workspaces::erase_user),
        )
        .service(
            web::resource("/workspaces/{key}/sso")
                .route(web::get().to(settings::sso))
                .route(web::put().to(settings::set_sso)),
        )
        .service(
            web::resource("/workspaces/{key}/tokens")
                .route(web::get().to(settings::tokens))
                .route(web::post().to(settings::issue_token)),
        )
        .route(
            "/workspaces/{key}/tokens/{id}",
            web::delete().to(settings::revoke_token),
        )
        .route(
            "/workspaces/{key}/tokens/{id}/rotate",
            web::post().to(settings::rotate_token),
        )
        .route(
            "/workspaces/{key}/audit-events",
            web::get().to(logs::audit_events),
        )
        .route(
            "/workspaces/{key}/provisioning-errors",
            web::get().to(logs::provisioning_errors),
        )
        .route("/workspaces/{key}/users", web::get().to(logs::users))
        .route("/workspaces/{key}/users/{id}", web::get().to(logs::user))
        .default_service(web::to(not_found))
}

async fn not_found() -> Answer {
    Err(ApiError::NotFound("no such admin endpoint".into()).into())
}
