//! The Prometheus metrics of this replica, served at `/metrics`. Labels never carry a workspace
//! key or a raw path, so their number stays bounded however many workspaces there are.

use actix_web::{HttpResponse, web};
use prometheus::{Encoder, Gauge, IntCounter, IntGauge, Registry, TextEncoder};

use crate::AppState;

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Active SCIM tokens, across workspaces, that expire within the warning window.
    pub tokens_expiring_soon: IntGauge,
    /// Outbox events not yet delivered (nor dead).
    pub outbox_backlog: IntGauge,
    /// Seconds since the oldest undelivered event was written.
    pub outbox_oldest_age: Gauge,
    /// Events that failed every attempt and wait for a replay.
    pub outbox_dead: IntGauge,
    pub webhook_deliveries: IntCounter,
    pub webhook_failures: IntCounter,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("webwork_scim".into()), None)?;
        let tokens_expiring_soon = IntGauge::new(
            "tokens_expiring_soon",
            "Active SCIM tokens that expire within TOKEN_EXPIRY_WARNING_DAYS",
        )?;
        let outbox_backlog = IntGauge::new("outbox_backlog", "Outbox events not yet delivered")?;
        let outbox_oldest_age = Gauge::new(
            "outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox event",
        )?;
        let outbox_dead = IntGauge::new("outbox_dead", "Outbox events that failed every attempt")?;
        let webhook_deliveries = IntCounter::new(
            "webhook_deliveries_total",
            "Events delivered to WebWork's app",
        )?;
        let webhook_failures = IntCounter::new(
            "webhook_failures_total",
            "Failed attempts to deliver an event",
        )?;
        registry.register(Box::new(tokens_expiring_soon.clone()))?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        registry.register(Box::new(outbox_dead.clone()))?;
        registry.register(Box::new(webhook_deliveries.clone()))?;
        registry.register(Box::new(webhook_failures.clone()))?;
        Ok(Metrics {
            registry,
            tokens_expiring_soon,
            outbox_backlog,
            outbox_oldest_age,
            outbox_dead,
            webhook_deliveries,
            webhook_failures,
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
