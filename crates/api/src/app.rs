//! The actix application: state, routes, middleware. Tests and the server build it alike.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};

use crate::{AppState, admin_api, internal_api, metrics, request_log, scim};

/// Registers the state and every route on `cfg`.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let limit = state.config.max_body_bytes;
        cfg.app_data(web::Data::new(state))
            .app_data(web::PayloadConfig::new(limit))
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics::serve))
            .service(scim::scope())
            .service(admin_api::scope())
            .service(internal_api::scope());
    }
}

/// The whole application, as served.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(from_fn(request_log::log_request))
        .configure(configure(state))
        .default_service(web::to(scim::not_found))
}

/// The process is alive; says nothing of the database.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
