//! The admin API under `/api/v1`: what WebWork's main app (Settings > Single Sign-On, billing,
//! operators) uses to manage workspaces and their SCIM tokens. JSON in, JSON out, errors as
//! RFC 9457 problem documents; authenticated by JWTs that the main app issues.

mod auth;
mod logs;
mod settings;
pub(crate) mod views;
mod workspaces;

use actix_web::{HttpResponse, ResponseError, web};

pub use auth::AdminAuth;

use serde_json::Value;
use webwork_scim_domain::{DomainError, PlainText};

use crate::ApiError;
use crate::scim::body::JsonBody;
use crate::usecases::{AdminError, DirectoryError};

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

macro_rules! through_api_error {
    ($($error:ty),*) => {$(
        impl From<$error> for AdminApiError {
            fn from(err: $error) -> Self {
                AdminApiError(ApiError::from(err))
            }
        }
    )*};
}

through_api_error!(
    AdminError,
    DirectoryError,
    DomainError,
    webwork_scim_persistence::StoreError
);

/// An optional text field of a request, bounded.
pub(crate) fn text(
    value: Option<&str>,
    field: &str,
    max: usize,
) -> Result<Option<PlainText>, AdminApiError> {
    Ok(value
        .map(|value| PlainText::parse(field, value, max))
        .transpose()?)
}

pub(crate) type Answer = Result<HttpResponse, AdminApiError>;

/// A request body as `T`; only a JSON object will do (serde would also read a struct from an
/// array).
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, AdminApiError> {
    if !body.is_object() {
        return Err(DomainError::invalid_value("the request body must be a JSON object").into());
    }
    serde_json::from_value(body)
        .map_err(|err| DomainError::invalid_value(format!("invalid request body: {err}")).into())
}

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
        let body = JsonBody::from_request(req, payload);
        Box::pin(async move { Ok(AdminBody(body.await?.0)) })
    }
}

/// A body that may be absent (no `Content-Length` or zero); when present it must be valid.
#[derive(Debug)]
pub struct OptionalAdminBody(pub Option<serde_json::Value>);

impl actix_web::FromRequest for OptionalAdminBody {
    type Error = AdminApiError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<OptionalAdminBody, AdminApiError>>>,
    >;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let headers = req.headers();
        let chunked = headers.contains_key(actix_web::http::header::TRANSFER_ENCODING);
        let length = headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if length == 0 && !chunked {
            return Box::pin(std::future::ready(Ok(OptionalAdminBody(None))));
        }
        let body = AdminBody::from_request(req, payload);
        Box::pin(async move { Ok(OptionalAdminBody(Some(body.await?.0))) })
    }
}

/// Query strings that do not parse are refused as problem documents too.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        AdminApiError::from(DomainError::invalid_value(format!("invalid query: {err}"))).into()
    })
}

pub fn scope() -> actix_web::Scope {
    let key = "/workspaces/{key}";
    web::scope("/api/v1")
        .app_data(query_config())
        .service(
            resource("/workspaces", "GET, POST")
                .route(web::get().to(workspaces::list))
                .route(web::post().to(workspaces::create)),
        )
        .service(
            resource(key, "GET, DELETE")
                .route(web::get().to(workspaces::read))
                .route(web::delete().to(workspaces::delete)),
        )
        .service(resource(&format!("{key}/plan"), "PUT").route(web::put().to(workspaces::set_plan)))
        .service(
            resource(&format!("{key}/seats"), "PUT").route(web::put().to(workspaces::set_seats)),
        )
        .service(
            resource(&format!("{key}/entitlement-overrides"), "PUT, DELETE")
                .route(web::put().to(workspaces::set_overrides))
                .route(web::delete().to(workspaces::clear_overrides)),
        )
        .service(resource(&format!("{key}/export"), "GET").route(web::get().to(workspaces::export)))
        .service(
            resource("/outbox/replay", "POST")
                .route(web::post().to(workspaces::replay_all_outboxes)),
        )
        .service(
            resource(&format!("{key}/outbox/replay"), "POST")
                .route(web::post().to(workspaces::replay_outbox)),
        )
        .service(
            resource(&format!("{key}/users/{{id}}/erase"), "POST")
                .route(web::post().to(workspaces::erase_user)),
        )
        .service(
            resource(&format!("{key}/sso"), "GET, PUT")
                .route(web::get().to(settings::sso))
                .route(web::put().to(settings::set_sso)),
        )
        .service(
            resource(&format!("{key}/tokens"), "GET, POST")
                .route(web::get().to(settings::tokens))
                .route(web::post().to(settings::issue_token)),
        )
        .service(
            resource(&format!("{key}/tokens/{{id}}"), "DELETE")
                .route(web::delete().to(settings::revoke_token)),
        )
        .service(
            resource(&format!("{key}/tokens/{{id}}/rotate"), "POST")
                .route(web::post().to(settings::rotate_token)),
        )
        .service(
            resource(&format!("{key}/audit-events"), "GET")
                .route(web::get().to(logs::audit_events)),
        )
        .service(
            resource(&format!("{key}/provisioning-errors"), "GET")
                .route(web::get().to(logs::provisioning_errors)),
        )
        .service(resource(&format!("{key}/users"), "GET").route(web::get().to(logs::users)))
        .service(resource(&format!("{key}/users/{{id}}"), "GET").route(web::get().to(logs::user)))
        .service(resource(&format!("{key}/groups"), "GET").route(web::get().to(logs::groups)))
        .service(resource(&format!("{key}/groups/{{id}}"), "GET").route(web::get().to(logs::group)))
        .default_service(web::to(not_found))
}

/// A resource whose other methods get a 405 problem document naming the `allowed` ones.
fn resource(path: &str, allowed: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(AdminApiError(ApiError::MethodNotAllowed(allowed)))
    }))
}

async fn not_found() -> Answer {
    Err(ApiError::NoSuchEndpoint("no such admin endpoint").into())
}
