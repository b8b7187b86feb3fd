//! The internal API under `/internal/v1`, for WebWork's own services: the directory of a
//! workspace's users and groups, linking existing members, and the credential check of WebWork's login.
//! Authenticated by service JWTs whose audience is this API's own, so that a session or admin
//! token does not work here. Errors are problem documents, as on the admin API.

mod credentials;
mod directory;
mod groups;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use webwork_scim_tenancy::Role;

use crate::admin_api::AdminApiError;
use crate::{ApiError, AppState};

/// A caller holding a valid service JWT.
#[derive(Debug, Clone)]
pub struct ServiceAuth {
    pub subject: String,
}

impl FromRequest for ServiceAuth {
    type Error = AdminApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ServiceAuth, AdminApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = crate::bearer::credential(req).ok().map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not configured"))?;
            let token = bearer.ok_or_else(|| ApiError::InvalidJwt("no bearer token".into()))?;
            let claims = state
                .config
                .internal_jwt
                .verify(&token)
                .map_err(|err| ApiError::InvalidJwt(err.to_string()))?;
            if claims.role != Role::Service {
                return Err(ApiError::Forbidden("this needs the service role").into());
            }
            Ok(ServiceAuth {
                subject: claims.subject,
            })
        })
    }
}

pub fn scope() -> actix_web::Scope {
    let key = "/workspaces/{key}";
    web::scope("/internal/v1")
        .app_data(crate::admin_api::query_config())
        .service(resource(&format!("{key}/users"), "GET").route(web::get().to(directory::users)))
        .service(
            resource(&format!("{key}/users/{{id}}"), "GET").route(web::get().to(directory::user)),
        )
        .service(resource(&format!("{key}/groups"), "GET").route(web::get().to(groups::groups)))
        .service(
            resource(&format!("{key}/groups/{{id}}"), "GET").route(web::get().to(groups::group)),
        )
        .service(
            resource(&format!("{key}/groups/{{id}}/members"), "GET")
                .route(web::get().to(groups::members)),
        )
        .service(
            resource(&format!("{key}/members/bulk-upsert"), "POST")
                .route(web::post().to(directory::upsert_members)),
        )
        .service(
            resource(&format!("{key}/credentials/verify"), "POST")
                .route(web::post().to(credentials::verify)),
        )
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(AdminApiError(ApiError::NoSuchEndpoint(
                "no such internal endpoint",
            )))
        }))
}

fn resource(path: &str, allowed: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(AdminApiError(ApiError::MethodNotAllowed(allowed)))
    }))
}
