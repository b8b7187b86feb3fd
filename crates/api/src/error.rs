//! `ApiError`: every failure an HTTP caller can see, with the one place that turns it into a
//! status code and an RFC 7644 §3.12 error body.
//!
//! Use the variant that names what went wrong for the caller; wrap anything unexpected with
//! [`ApiError::internal`], which logs the cause once and shows the caller only a generic detail.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use webwork_scim_domain::schema;
use webwork_scim_domain::{DomainError, ScimType};
use webwork_scim_persistence::StoreError;
use webwork_scim_tenancy::AuthFailure;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Whole seconds to wait, at least one: Okta honours an integer `Retry-After` exactly.
fn retry_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

/// What went wrong, kept on the response for the provisioning error log.
#[derive(Debug, Clone)]
pub struct ErrorSummary {
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown, wrong, revoked or expired token, or an unknown workspace: all
    /// answered alike so that nothing can be learned by probing.
    #[error("unauthorized: {0}")]
    Unauthorized(AuthFailure),
    /// A missing, malformed, expired or wrongly signed admin-API JWT, or one with an unknown key.
    #[error("invalid admin token: {0}")]
    InvalidJwt(String),
    /// The workspace's plan does not include SCIM provisioning.
    #[error("SCIM provisioning requires the Premium plan")]
    PlanRequired,
    /// Creating or reactivating a user would exceed the seats the workspace bought.
    #[error("seat limit reached: {used} of {seats}")]
    SeatLimit { used: i64, seats: u32 },
    /// The caller may not do this: a wrong role on the admin API, the workspace owner on SCIM, a
    /// workspace with single sign-on turned off.
    #[error("{0}")]
    Forbidden(String),
    /// The workspace's request rate is exhausted on this replica.
    #[error("too many requests for this workspace; retry in {} s", retry_secs(*.0))]
    RateLimited(Duration),
    /// Too many failed token attempts for this workspace or token.
    #[error("too many failed authentication attempts; retry in {} s", retry_secs(*.0))]
    TooManyFailures(Duration),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The resource changed since the caller read it.
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported content type '{0}'")]
    UnsupportedMediaType(String),
    /// The path exists but not with this method; holds the methods it allows.
    #[error("method not allowed; use {0}")]
    MethodNotAllowed(&'static str),
    /// The database cannot be reached; the client should retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Every database connection of this replica is busy; the client should retry.
    #[error("service busy")]
    Busy,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }

    pub fn user_not_found(id: &str) -> ApiError {
        ApiError::NotFound(format!("User {id} not found"))
    }

    pub fn group_not_found(id: &str) -> ApiError {
        ApiError::NotFound(format!("Group {id} not found"))
    }

    /// A store failure in the context of a users or groups request.
    pub fn from_store(err: StoreError, conflict_detail: impl FnOnce() -> String) -> ApiError {
        match err {
            StoreError::Conflict => ApiError::Domain(DomainError::Uniqueness(conflict_detail())),
            other => ApiError::from(other),
        }
    }

    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            ApiError::Domain(err) => Some(err.scim_type()),
            _ => None,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            ApiError::Unauthorized(_) => {
                "The SCIM API token is missing, invalid, expired or revoked. Copy the SCIM Base URL \
                 and a current token from Settings > Single Sign-On."
                    .into()
            }
            ApiError::PlanRequired => {
                "SCIM provisioning requires the WebWork Premium plan. Upgrade the workspace to \
                 Premium (or Enterprise) to provision users; existing data is kept."
                    .into()
            }
            ApiError::InvalidJwt(_) => "A valid WebWork token (JWT) for this API is required.".into(),
            ApiError::Internal(_) => "An internal error occurred; it has been logged.".into(),
            ApiError::Unavailable(_) | ApiError::Busy => {
                "The service is temporarily unavailable; retry shortly.".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause.to_string()),
            StoreError::Disconnected(cause) => ApiError::Unavailable(cause),
            StoreError::PoolExhausted => ApiError::Busy,
            StoreError::Domain(err) => ApiError::Domain(err),
            StoreError::Conflict => {
                ApiError::Domain(DomainError::Uniqueness("the value is already taken".into()))
            }
            StoreError::Concurrent => ApiError::Conflict(
                "the resource changed concurrently; read it again and retry".into(),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) | ApiError::InvalidJwt(_) => StatusCode::UNAUTHORIZED,
            ApiError::PlanRequired | ApiError::SeatLimit { .. } | ApiError::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            ApiError::RateLimited(_) | ApiError::TooManyFailures(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Domain(err) if err.scim_type() == ScimType::Uniqueness => {
                StatusCode::CONFLICT
            }
            ApiError::Domain(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        self.log();
        let mut body = json!({
            "schemas": [schema::ERROR],
            "status": status.as_str(),
            "detail": self.detail(),
        });
        if let Some(scim_type) = self.scim_type() {
            body["scimType"] = json!(scim_type.as_str());
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
        self.add_headers(&mut response);
        let mut response = response.body(body.to_string());
        response.extensions_mut().insert(ErrorSummary {
            scim_type: self.scim_type().map(ScimType::as_str),
            detail: self.detail(),
        });
        self.mark_unavailable(&mut response);
        response
    }
}

impl ApiError {
    fn log(&self) {
        match self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            ApiError::Busy => tracing::warn!("every database connection is busy"),
            ApiError::Unauthorized(reason) => {
                tracing::info!(reason = reason.reason(), "authentication failed");
            }
            ApiError::InvalidJwt(reason) => {
                tracing::info!(%reason, "admin authentication failed");
            }
            _ => {}
        }
    }

    fn add_headers(&self, response: &mut actix_web::HttpResponseBuilder) {
        match self {
            ApiError::Unauthorized(_) | ApiError::InvalidJwt(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"webwork-scim\""),
                ));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            ApiError::Busy => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            ApiError::MethodNotAllowed(allowed) => {
                response.insert_header((header::ALLOW, *allowed));
            }
            ApiError::RateLimited(wait) | ApiError::TooManyFailures(wait) => {
                response.insert_header((header::RETRY_AFTER, retry_secs(*wait).to_string()));
            }
            _ => {}
        }
    }

    /// The same error as an RFC 9457 problem document, for the admin and internal APIs.
    pub fn problem_response(&self) -> HttpResponse {
        let status = self.status_code();
        self.log();
        let mut body = json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        if let Some(scim_type) = self.scim_type() {
            body["code"] = json!(scim_type.as_str());
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        self.add_headers(&mut response);
        let mut response = response.body(body.to_string());
        self.mark_unavailable(&mut response);
        response
    }

    /// Tags a response that answers a database outage, for the `db_unavailable_total` metric.
    fn mark_unavailable(&self, response: &mut HttpResponse) {
        if matches!(self, ApiError::Unavailable(_)) {
            response.extensions_mut().insert(DatabaseUnavailable);
        }
    }
}

/// On a response: it is a 503 because the database could not be reached.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnavailable;
