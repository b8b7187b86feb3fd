//! SCIM 2.0 (RFC 7644) under `/scim/v2/{workspace key}`.

pub mod auth;
pub mod body;
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
        .default_service(web::to(not_found))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such SCIM endpoint".into()))
}
