//! SCIM 2.0 (RFC 7644) under `/scim/v2/{workspace key}`.

pub mod auth;
pub mod body;
pub mod discovery;
pub mod list;
pub mod render;
pub mod users;

use actix_web::{HttpResponse, web};

use crate::ApiError;

/// The routes of one workspace's SCIM Base URL.
pub fn scope() -> actix_web::Scope {
    web::scope("/scim/v2/{workspace}")
        .service(
            web::resource("/Users")
                .route(web::get().to(users::list))
                .route(web::post().to(users::create))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/Users/{id}")
                .route(web::get().to(users::get))
                .route(web::put().to(users::replace))
                .route(web::patch().to(users::patch))
                .route(web::delete().to(users::delete))
                .default_service(web::to(method_not_allowed)),
        )
        .service(read_only(
            "/ServiceProviderConfig",
            discovery::service_provider_config,
        ))
        .service(read_only("/ResourceTypes", discovery::resource_types))
        .service(
            web::resource("/ResourceTypes/{id}")
                .route(web::get().to(discovery::resource_type))
                .default_service(web::to(method_not_allowed)),
        )
        .service(read_only("/Schemas", discovery::schemas))
        .service(
            web::resource("/Schemas/{id}")
                .route(web::get().to(discovery::schema_by_id))
                .default_service(web::to(method_not_allowed)),
        )
        .default_service(web::to(not_found))
}

/// A discovery resource: GET only, anything else 405.
fn read_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such SCIM endpoint".into()))
}
