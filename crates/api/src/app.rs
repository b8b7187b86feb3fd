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
        let metrics_here = state.config.metrics_on_api_port;
        cfg.app_data(web::Data::new(state))
            .app_data(web::PayloadConfig::new(limit))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz));
        if metrics_here {
            cfg.route("/metrics", web::get().to(metrics::serve));
        }
        cfg.service(scim::scope())
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

/// `/metrics` alone, for its own port.
pub fn metrics_app(
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
        .app_data(web::Data::new(state))
        .route("/metrics", web::get().to(metrics::serve))
}

/// The process is alive; says nothing of the database.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Started with a valid configuration and a schema at the expected migration, and not stopping.
/// The database is deliberately not probed: an outage would take every replica out of the
/// Service at once, while SCIM already answers 503 with `Retry-After` request by request.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.status.is_ready() {
        HttpResponse::Ok().content_type("text/plain").body("ready")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("not ready")
    }
}
