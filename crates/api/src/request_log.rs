//! One log line per request (method, route template, workspace key, status, latency, and the
//! hops its handler made to the blocking pool, where the database is used) under a
//! request id taken from `X-Request-Id` or generated, and returned in the response. Headers are
//! never logged, so neither is a token. Failed SCIM requests of an identified workspace are also
//! written, best-effort, to its provisioning error log.

use std::future::{Ready, ready};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use tracing::Instrument;
use webwork_scim_persistence::provisioning_errors::FailedRequest;

use crate::AppState;
use crate::error::{DatabaseUnavailable, ErrorSummary};
use crate::usecases::{ScimCaller, counting_hops};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, as logged and returned in `X-Request-Id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<RequestId, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().to_string()));
        ready(Ok(id))
    }
}

/// A client's request id is kept when it is short and printable; otherwise we make one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Counts a request in flight until it is dropped, however the request ends.
struct InFlight(prometheus::IntGauge);

impl InFlight {
    fn start(metrics: &crate::metrics::Metrics) -> InFlight {
        metrics.in_flight.inc();
        InFlight(metrics.in_flight.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let _in_flight = req
        .app_data::<web::Data<AppState>>()
        .map(|state| InFlight::start(&state.metrics));
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, %method);
    let (response, blocking_hops) = counting_hops(next.call(req).instrument(span.clone())).await;
    let mut response = response?;
    let matched = response.request().match_pattern();
    let status = response.status();
    let database_down = response
        .response()
        .extensions()
        .get::<DatabaseUnavailable>()
        .is_some();
    if let Some(state) = response.request().app_data::<web::Data<AppState>>() {
        state.metrics.observe_request(
            &method,
            matched.as_deref(),
            status,
            started.elapsed(),
            database_down,
        );
    }
    let route = matched.unwrap_or_else(|| "unmatched".into());
    let workspace = response
        .request()
        .match_info()
        .get("workspace")
        .unwrap_or("-")
        .to_owned();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if status.is_client_error() || status.is_server_error() {
        record_failure(&response, &route, &id);
    }
    span.in_scope(|| {
        tracing::info!(
            %route,
            %workspace,
            status = status.as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            blocking_hops,
            "request"
        );
    });
    Ok(response)
}

/// Writes a failed SCIM request of a known workspace to its error log, in the background: the
/// answer to the client never waits for it, and a failure to write is only logged.
fn record_failure<B>(response: &ServiceResponse<B>, route: &str, request_id: &str) {
    let request = response.request();
    let Some(tenant) = request.extensions().get::<ScimCaller>().cloned() else {
        return;
    };
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return;
    };
    // A throttled workspace is not helped by a write per refused request; and the error log of a
    // workspace in trouble takes at most a write a second (bursts of 30), so that it cannot crowd
    // the database.
    let throttled = response.status() == actix_web::http::StatusCode::TOO_MANY_REQUESTS;
    let workspace_id = tenant.tenant.workspace_id;
    if throttled
        || state
            .error_log_budget
            .check(workspace_id, (1, 30), std::time::Instant::now())
            .is_err()
    {
        return;
    }
    let summary = response
        .response()
        .extensions()
        .get::<ErrorSummary>()
        .cloned();
    let failed = FailedRequest {
        actor: tenant.actor().to_string(),
        method: request.method().to_string(),
        route: route.to_owned(),
        status: response.status().as_u16(),
        scim_type: summary
            .as_ref()
            .and_then(|s| s.scim_type)
            .map(str::to_owned),
        detail: summary.map_or_else(|| response.status().to_string(), |s| s.detail),
        request_id: Some(request_id.to_owned()),
    };
    let workspace = tenant.tenant.workspace_id;
    actix_web::rt::spawn(async move {
        let written = state
            .use_cases
            .record_failed_request(workspace, failed)
            .await;
        if let Err(err) = written {
            tracing::warn!(error = %err, "could not record a provisioning error");
        }
    });
}
