//! The Prometheus metrics of this replica, served at `/metrics`. Labels never carry a workspace
//! key or a raw path, so their number stays bounded however many workspaces there are.

use actix_web::{HttpResponse, web};
use prometheus::{Encoder, IntGauge, Registry, TextEncoder};

use crate::AppState;

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Active SCIM tokens, across workspaces, that expire within the warning window.
    pub tokens_expiring_soon: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("webwork_scim".into()), None)?;
        let tokens_expiring_soon = IntGauge::new(
            "tokens_expiring_soon",
            "Active SCIM tokens that expire within TOKEN_EXPIRY_WARNING_DAYS",
        )?;
        registry.register(Box::new(tokens_expiring_soon.clone()))?;
        Ok(Metrics {
            registry,
            tokens_expiring_soon,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|err| prometheus::Error::Msg(err.to_string()))
    }
}

pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(text),
        Err(err) => {
            tracing::error!(error = %err, "metrics could not be rendered");
            HttpResponse::InternalServerError().finish()
        }
    }
}
