//! SCIM 2.0 (RFC 7644) under `/scim/v2/{workspace key}`.

pub mod accept;
pub mod auth;
pub mod body;
pub mod bulk;
pub mod cursor_page;
pub mod discovery;
pub mod groups;
pub mod list;
pub mod listing;
pub mod projection;
pub mod render;
pub mod schema_text;
pub mod search;
pub mod user_resource;
pub mod users;

use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::usecases::{IfMatch, ScimCaller};
use crate::{ApiError, AppState};

/// The routes of one workspace's SCIM Base URL.
pub fn scope() -> impl actix_web::dev::HttpServiceFactory {
    web::scope("/scim/v2/{workspace}")
        .wrap(from_fn(accept::require_json))
        .service(
            resource("/Users", "GET, POST")
                .route(web::get().to(users::list))
                .route(web::post().to(users::create)),
        )
        .service(resource("/Users/.search", "POST").route(web::post().to(users::search)))
        .service(
            resource("/Users/{id}", "GET, PUT, PATCH, DELETE")
                .route(web::get().to(users::get))
                .route(web::put().to(users::replace))
                .route(web::patch().to(users::patch))
                .route(web::delete().to(users::delete)),
        )
        .service(
            resource("/Groups", "GET, POST")
                .route(web::get().to(groups::list))
                .route(web::post().to(groups::create)),
        )
        .service(resource("/Groups/.search", "POST").route(web::post().to(groups::search)))
        .service(
            resource("/Groups/{id}", "GET, PUT, PATCH, DELETE")
                .route(web::get().to(groups::get))
                .route(web::put().to(groups::replace))
                .route(web::patch().to(groups::patch))
                .route(web::delete().to(groups::delete)),
        )
        .service(read_only(
            "/ServiceProviderConfig",
            discovery::service_provider_config,
        ))
        .service(read_only("/ResourceTypes", discovery::resource_types))
        .service(
            resource("/ResourceTypes/{id}", "GET").route(web::get().to(discovery::resource_type)),
        )
        .service(read_only("/Schemas", discovery::schemas))
        .service(resource("/Schemas/{id}", "GET").route(web::get().to(discovery::schema_by_id)))
        .service(web::resource("/Me").to(me))
        .service(resource("/Bulk", "POST").route(web::post().to(bulk::bulk)))
        .service(resource("/.search", "POST").route(web::post().to(search::search)))
        .default_service(web::to(not_found))
}

/// A discovery resource: GET only, anything else 405.
fn read_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path, "GET").route(web::get().to(handler))
}

/// A resource whose other methods get a 405 SCIM error naming the `allowed` ones.
fn resource(path: &str, allowed: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allowed))
    }))
}

/// The SCIM Base URL of the caller's workspace, as resources name themselves under it.
pub fn base_url(state: &AppState, caller: &ScimCaller) -> String {
    state.scim_base_url(caller.tenant.workspace_key.as_str())
}

/// The request's `If-Match`, when it has one (RFC 7644 §3.14).
pub fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    tags(req, header::IF_MATCH)
}

/// The request's `If-None-Match`, when it has one: a `GET` of a resource at one of these tags
/// answers 304.
pub fn if_none_match(req: &HttpRequest) -> Option<IfMatch> {
    tags(req, header::IF_NONE_MATCH)
}

fn tags(req: &HttpRequest, name: header::HeaderName) -> Option<IfMatch> {
    let values: Vec<&str> = req
        .headers()
        .get_all(name)
        .map(|value| value.to_str().unwrap_or_default())
        .collect();
    (!values.is_empty()).then(|| IfMatch::parse(&values.join(",")))
}

/// RFC 7644 §3.11: a service without `/Me` answers 501 (after authentication, like every
/// endpoint of a workspace). A SCIM token stands for an identity provider, not for a user.
pub async fn me(_caller: ScimCaller) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotImplemented(
        "/Me is not supported: a SCIM token acts for an identity provider, not for a user",
    ))
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoSuchEndpoint("no such SCIM endpoint"))
}
