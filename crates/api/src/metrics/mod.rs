//! The Prometheus metrics of this replica, served at `/metrics` (on `METRICS_BIND_ADDR` when it
//! is set). Labels never carry a workspace key, an id or a raw path, only route templates and
//! small fixed sets of values, so their number stays bounded however many workspaces there are.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use webwork_scim_domain::ScimRefusal;
use webwork_scim_tenancy::{Admission, AuthFailure, AuthRefusal, Verification};

use crate::AppState;

/// Latency buckets in seconds: SCIM calls take milliseconds; Okta gives up after 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Pool waits: nothing in the common case, up to the checkout timeout when the pool is exhausted.
const WAIT_BUCKETS: &[f64] = &[0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0];

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Process metrics under their conventional unprefixed names.
    process: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    scim_operations: IntCounterVec,
    pub auth_failures: IntCounterVec,
    pub token_cache_hits: IntCounter,
    pub token_cache_misses: IntCounter,
    pub plan_refusals: IntCounter,
    pub rate_limited: IntCounter,
    db_unavailable: IntCounter,
    pool_max: IntGauge,
    pool_connections: IntGaugeVec,
    pub pool_wait: Histogram,
    /// Active SCIM tokens, across workspaces, that expire within the warning window.
    pub tokens_expiring_soon: IntGauge,
    /// Outbox events not yet delivered (nor dead).
    pub outbox_backlog: IntGauge,
    /// Seconds since the oldest undelivered event was written.
    pub outbox_oldest_age: Gauge,
    /// Events that failed every attempt and wait for a replay.
    pub outbox_dead: IntGauge,
    /// Requests being answered now.
    pub in_flight: IntGauge,
    /// argon2 jobs waiting for a worker, all workspaces together.
    pub argon2_waiting: IntGauge,
    /// Changes waiting for SQLite's writer thread to start them.
    pub writer_queue: IntGauge,
    pub webhook_deliveries: IntCounter,
    pub webhook_failures: IntCounter,
}

fn counter(registry: &Registry, name: &str, help: &str) -> Result<IntCounter, prometheus::Error> {
    let metric = IntCounter::new(name, help)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, prometheus::Error> {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
    let metric = IntGauge::new(name, help)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn gauge_vec(
    registry: &Registry,
    opts: Opts,
    labels: &[&str],
) -> Result<IntGaugeVec, prometheus::Error> {
    let metric = IntGaugeVec::new(opts, labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn histogram(registry: &Registry, opts: HistogramOpts) -> Result<Histogram, prometheus::Error> {
    let metric = Histogram::with_opts(opts)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

fn histogram_vec(
    registry: &Registry,
    opts: HistogramOpts,
    labels: &[&str],
) -> Result<HistogramVec, prometheus::Error> {
    let metric = HistogramVec::new(opts, labels)?;
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

/// `build_info{version, commit} 1`.
fn register_build_info(registry: &Registry) -> Result<(), prometheus::Error> {
    let build_info = gauge_vec(
        registry,
        Opts::new("build_info", "The version and commit this replica runs"),
        &["version", "commit"],
    )?;
    build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("WEBWORK_SCIM_COMMIT")])
        .set(1);
    Ok(())
}

/// Process metrics under their conventional unprefixed names (Linux only).
fn process_registry() -> Result<Registry, prometheus::Error> {
    let process = Registry::new();
    #[cfg(target_os = "linux")]
    process.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    Ok(process)
}

/// The counters without labels, in the order `Metrics::new` takes them.
fn plain_counters(registry: &Registry) -> Result<[IntCounter; 7], prometheus::Error> {
    let specs: [(&str, &str); 7] = [
        (
            "token_cache_hits_total",
            "Token checks served from the verified-token cache",
        ),
        (
            "token_cache_misses_total",
            "Token checks that needed an argon2 verification",
        ),
        (
            "plan_refusals_total",
            "SCIM requests refused because the plan lacks SCIM provisioning",
        ),
        (
            "rate_limited_total",
            "Requests refused with 429 by a workspace's rate limit",
        ),
        (
            "db_unavailable_total",
            "Requests answered 503 because the database could not be reached",
        ),
        (
            "webhook_deliveries_total",
            "Events delivered to WebWork's app",
        ),
        (
            "webhook_failures_total",
            "Failed attempts to deliver an event",
        ),
    ];
    let [a, b, c, d, e, f, g] = specs.map(|(name, help)| counter(registry, name, help));
    Ok([a?, b?, c?, d?, e?, f?, g?])
}

/// The counters with labels, in the order `Metrics::new` takes them.
fn labelled_counters(registry: &Registry) -> Result<[IntCounterVec; 3], prometheus::Error> {
    Ok([
        counter_vec(
            registry,
            "http_requests_total",
            "Requests answered, by method, route template and status",
            &["method", "route", "status"],
        )?,
        counter_vec(
            registry,
            "scim_operations_total",
            "SCIM operations, by resource, operation and outcome",
            &["resource", "operation", "outcome"],
        )?,
        counter_vec(
            registry,
            "auth_failures_total",
            "SCIM requests refused at authentication, by reason",
            &["reason"],
        )?,
    ])
}

/// The gauges without labels, in the order `Metrics::new` takes them.
fn plain_gauges(registry: &Registry) -> Result<[IntGauge; 7], prometheus::Error> {
    let specs: [(&str, &str); 7] = [
        (
            "db_pool_max_connections",
            "The most connections the pool opens",
        ),
        (
            "tokens_expiring_soon",
            "Active SCIM tokens that expire within TOKEN_EXPIRY_WARNING_DAYS",
        ),
        ("outbox_backlog", "Outbox events not yet delivered"),
        ("outbox_dead", "Outbox events that failed every attempt"),
        (
            "http_requests_in_flight",
            "Requests this replica is answering now",
        ),
        (
            "argon2_jobs_waiting",
            "argon2 jobs (token checks, password hashes) waiting for a worker",
        ),
        (
            "sqlite_writer_queued_changes",
            "Changes waiting for SQLite's writer thread to start them (0 on PostgreSQL)",
        ),
    ];
    let [a, b, c, d, e, f, g] = specs.map(|(name, help)| gauge(registry, name, help));
    Ok([a?, b?, c?, d?, e?, f?, g?])
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("webwork_scim".into()), None)?;
        let r = &registry;
        let http_duration = histogram_vec(
            r,
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer a request, by route template",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let pool_wait = histogram(
            r,
            HistogramOpts::new(
                "db_pool_wait_seconds",
                "Time a request waited for a database connection",
            )
            .buckets(WAIT_BUCKETS.to_vec()),
        )?;
        let pool_connections = gauge_vec(
            r,
            Opts::new(
                "db_pool_connections",
                "Open database connections, idle or in use",
            ),
            &["state"],
        )?;
        let outbox_oldest_age = Gauge::new(
            "outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox event, pending or dead",
        )?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        register_build_info(r)?;
        let process = process_registry()?;
        let [
            token_cache_hits,
            token_cache_misses,
            plan_refusals,
            rate_limited,
            db_unavailable,
            webhook_deliveries,
            webhook_failures,
        ] = plain_counters(r)?;
        let [
            pool_max,
            tokens_expiring_soon,
            outbox_backlog,
            outbox_dead,
            in_flight,
            argon2_waiting,
            writer_queue,
        ] = plain_gauges(r)?;
        let [http_requests, scim_operations, auth_failures] = labelled_counters(r)?;
        Ok(Metrics {
            http_requests,
            http_duration,
            scim_operations,
            auth_failures,
            token_cache_hits,
            token_cache_misses,
            plan_refusals,
            rate_limited,
            db_unavailable,
            pool_max,
            pool_connections,
            pool_wait,
            tokens_expiring_soon,
            outbox_backlog,
            outbox_oldest_age,
            outbox_dead,
            in_flight,
            argon2_waiting,
            writer_queue,
            webhook_deliveries,
            webhook_failures,
            registry,
            process,
        })
    }

    /// Counts one answered request. `route` is the matched route template, or `None`;
    /// `database_down` when the answer is a 503 for a database outage.
    pub fn observe_request(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
        database_down: bool,
    ) {
        let route = route.unwrap_or("unmatched");
        let method = method_label(method);
        self.http_requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
        if database_down {
            self.db_unavailable.inc();
        }
        if let Some((resource, operation)) = scim_operation(method, route) {
            self.scim_operations
                .with_label_values(&[resource, operation, outcome(status)])
                .inc();
        }
    }

    /// Counts one operation of a Bulk request, as its single request would be counted; an
    /// operation whose method or path names nothing is counted under `Bulk`.
    pub fn observe_bulk_operation(&self, method: &str, path: &str, status: StatusCode) {
        let route = match path.strip_prefix('/').unwrap_or(path).split_once('/') {
            Some((kind, _)) => format!("/scim/v2/{{workspace}}/{kind}/{{id}}"),
            None => format!("/scim/v2/{{workspace}}/{}", path.trim_start_matches('/')),
        };
        let (resource, operation) = match scim_operation(method, &route) {
            Some((resource @ ("User" | "Group"), operation)) if operation != "other" => {
                (resource, operation)
            }
            _ => ("Bulk", "operation"),
        };
        self.scim_operations
            .with_label_values(&[resource, operation, outcome(status)])
            .inc();
    }

    /// Counts what the authentication of one SCIM request found: cache hits and misses, failures
    /// by reason, plan refusals, rate-limited requests.
    pub fn observe_admission(&self, admitted: &Result<Admission, AuthRefusal>) {
        match admitted {
            Ok(admission) => match admission.verification {
                Verification::Cached => self.token_cache_hits.inc(),
                Verification::Argon2 => self.token_cache_misses.inc(),
            },
            Err(AuthRefusal::Unauthorized(failure)) => {
                if *failure == AuthFailure::WrongSecret {
                    self.token_cache_misses.inc();
                }
                self.auth_failures
                    .with_label_values(&[failure.reason()])
                    .inc();
            }
            Err(AuthRefusal::Throttled(_)) => {
                self.auth_failures.with_label_values(&["throttled"]).inc();
            }
            Err(AuthRefusal::Forbidden {
                reason: ScimRefusal::PlanLacksProvisioning(_),
                ..
            }) => self.plan_refusals.inc(),
            Err(AuthRefusal::RateLimited { .. }) => self.rate_limited.inc(),
            Err(AuthRefusal::Forbidden { .. } | AuthRefusal::Lookup(_)) => {}
        }
    }

    /// The text exposition format, with the pool's gauges read now.
    pub fn render(&self, pool: r2d2::State, pool_max: u32) -> Result<String, prometheus::Error> {
        self.pool_max.set(i64::from(pool_max));
        let in_use = pool.connections.saturating_sub(pool.idle_connections);
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(pool.idle_connections));
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        let mut families = self.registry.gather();
        families.extend(self.process.gather());
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&families, &mut buffer)?;
        String::from_utf8(buffer).map_err(|err| prometheus::Error::Msg(err.to_string()))
    }
}

/// Standard methods by name; anything else is one label value, so a client cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn outcome(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        "server_error"
    } else if status.is_client_error() {
        "client_error"
    } else {
        "success"
    }
}

/// The SCIM resource and operation of a route template under `/scim/v2/{workspace}`.
fn scim_operation(method: &str, route: &str) -> Option<(&'static str, &'static str)> {
    let rest = route.strip_prefix("/scim/v2/{workspace}")?;
    let (resource, single) = match rest {
        "/Users" => ("User", false),
        "/Users/{id}" => ("User", true),
        "/Groups" => ("Group", false),
        "/Groups/{id}" => ("Group", true),
        "/Users/.search" => return Some(("User", "search")),
        "/Groups/.search" => return Some(("Group", "search")),
        "/.search" => return Some(("Search", "search")),
        // Its operations are counted one by one as well (`observe_bulk_operation`).
        "/Bulk" => return Some(("Bulk", "request")),
        _ => return Some(("Discovery", "read")),
    };
    let operation = match (method, single) {
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("GET", true) => "read",
        ("PUT", true) => "replace",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        _ => "other",
    };
    Some((resource, operation))
}

pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    let waiting = state.use_cases.hashes.waiting();
    state
        .metrics
        .argon2_waiting
        .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    let queued = state.store().queued_changes();
    state
        .metrics
        .writer_queue
        .set(i64::try_from(queued).unwrap_or(i64::MAX));
    let rendered = state
        .metrics
        .render(state.store().pool_state(), state.store().pool_max_size());
    match rendered {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(text),
        Err(err) => {
            tracing::error!(error = %err, "metrics could not be rendered");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests;
