//! `ApiError`: every failure an HTTP caller can see, with the one place that turns it into a
//! status code and an RFC 7644 §3.12 error body (or, on the admin and internal APIs, an RFC 9457
//! problem document).
//!
//! The use cases' errors come in typed, one enum per area; each is mapped here once. Anything
//! unexpected becomes [`ApiError::Internal`], which keeps its cause chain for the log and shows
//! the caller only a generic detail.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use webwork_scim_domain::{DomainError, Refusal, ScimRefusal, ScimType, schema};
use webwork_scim_persistence::StoreError;
use webwork_scim_tenancy::{AuthFailure, AuthRefusal, LookupError};

use crate::usecases::{AdminError, DirectoryError, NotFound, ProvisioningError};

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

/// An unexpected failure, with its cause chain.
pub type Cause = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown, wrong, revoked or expired token, or an unknown workspace: all
    /// answered alike so that nothing can be learned by probing.
    #[error("unauthorized: {0}")]
    Unauthorized(AuthFailure),
    /// A missing, malformed, expired or wrongly signed admin-API JWT, or one with an unknown key.
    #[error("invalid admin token: {0}")]
    InvalidJwt(String),
    /// Too many failed attempts on this token.
    #[error("too many failed authentication attempts; retry in {} s", retry_secs(*.0))]
    Throttled(Duration),
    /// The workspace's request rate is exhausted on this replica.
    #[error("too many requests for this workspace; retry in {} s", retry_secs(*.0))]
    RateLimited(Duration),
    /// The request's values break the rules of SCIM (its `scimType` says how).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// No route: the path names nothing here.
    #[error("{0}")]
    NoSuchEndpoint(&'static str),
    /// A rule of the service refused the request.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The caller's role does not allow this (admin and internal APIs).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the resource's ETag is W/\"{current}\", not one that If-Match names")]
    PreconditionFailed { current: String },
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// A Bulk request over `bulk.maxOperations`.
    #[error("a Bulk request carries at most {0} operations (maxOperations)")]
    TooManyOperations(usize),
    /// A Bulk operation names a `bulkId` that cannot be resolved.
    #[error("{0}")]
    UnresolvedReference(String),
    #[error("unsupported content type '{0}'")]
    UnsupportedMediaType(String),
    /// The path exists but not with this method; holds the methods it allows.
    #[error("method not allowed; use {0}")]
    MethodNotAllowed(&'static str),
    /// The client's `Accept` allows no JSON.
    #[error(
        "responses are application/scim+json or application/json; the Accept header allows neither"
    )]
    NotAcceptable,
    /// An optional part of the protocol this service does not offer.
    #[error("{0}")]
    NotImplemented(&'static str),
    /// The database cannot be reached; the client should retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Every database connection (or SQLite's writer queue) of this replica is busy; the client
    /// should retry.
    #[error("service busy")]
    Busy,
    #[error("internal error: {}", Chain(.0.as_ref()))]
    Internal(Cause),
}

/// An error and its sources, `: `-separated, for the log.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl ApiError {
    pub fn internal(cause: impl Into<Cause>) -> ApiError {
        ApiError::Internal(cause.into())
    }

    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            ApiError::Invalid(err) => Some(err.scim_type()),
            ApiError::Refused(refusal) if refusal_status(refusal) == StatusCode::BAD_REQUEST => {
                Some(ScimType::InvalidValue)
            }
            ApiError::UnresolvedReference(_) => Some(ScimType::InvalidValue),
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
            ApiError::InvalidJwt(_) => "A valid WebWork token (JWT) for this API is required.".into(),
            ApiError::Internal(_) => "An internal error occurred; it has been logged.".into(),
            ApiError::Unavailable(_) | ApiError::Busy => {
                "The service is temporarily unavailable; retry shortly.".into()
            }
            other => other.to_string(),
        }
    }

    /// Whether the workspace's plan refused SCIM (for the plan-refusal metric).
    pub fn is_plan_refusal(&self) -> bool {
        matches!(
            self,
            ApiError::Refused(Refusal::Scim(ScimRefusal::PlanLacksProvisioning(_)))
        )
    }
}

/// The status of a rule's refusal.
fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::OwnerProtected
        | Refusal::OwnerCredentials
        | Refusal::SeatLimit { .. }
        | Refusal::UserLimit { .. }
        | Refusal::Scim(_)
        | Refusal::SsoNotIncluded(_) => StatusCode::FORBIDDEN,
        Refusal::TokenLimit { .. } | Refusal::AlreadyRotated(_) => StatusCode::CONFLICT,
        Refusal::EnforcementNeedsSso | Refusal::ExpiryInPast => StatusCode::BAD_REQUEST,
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause.to_string()),
            StoreError::Disconnected(cause) => ApiError::Unavailable(cause),
            // Counted and alerted on as an outage: no change can be written until there is room.
            full @ StoreError::Full(_) => ApiError::Unavailable(full.to_string()),
            // A saturated pool or writer queue, or a deadlock the database broke: nothing was
            // written and a retry will do.
            StoreError::PoolExhausted | StoreError::Concurrent | StoreError::Locked => {
                ApiError::Busy
            }
            StoreError::Domain(err) => ApiError::Invalid(err),
            StoreError::Conflict => {
                ApiError::Invalid(DomainError::Uniqueness("the value is already taken".into()))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<ProvisioningError> for ApiError {
    fn from(err: ProvisioningError) -> ApiError {
        match err {
            ProvisioningError::Invalid(err) => ApiError::Invalid(err),
            ProvisioningError::NotFound(missing) => ApiError::NotFound(missing),
            ProvisioningError::Refused(refusal) => ApiError::Refused(refusal),
            ProvisioningError::PreconditionFailed { current } => {
                ApiError::PreconditionFailed { current }
            }
            ProvisioningError::Store(err) => ApiError::from(err),
            ProvisioningError::Hashing(err) => ApiError::internal(err),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> ApiError {
        match err {
            AdminError::Invalid(err) => ApiError::Invalid(err),
            AdminError::NotFound(missing) => ApiError::NotFound(missing),
            AdminError::Refused(refusal) => ApiError::Refused(refusal),
            AdminError::Store(err) => ApiError::from(err),
            AdminError::Issue(err) => ApiError::internal(err),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(err: DirectoryError) -> ApiError {
        match err {
            DirectoryError::Invalid(err) => ApiError::Invalid(err),
            DirectoryError::NotFound(missing) => ApiError::NotFound(missing),
            DirectoryError::Refused(refusal) => ApiError::Refused(refusal),
            DirectoryError::Store(err) => ApiError::from(err),
        }
    }
}

impl From<AuthRefusal> for ApiError {
    fn from(refusal: AuthRefusal) -> ApiError {
        match refusal {
            AuthRefusal::Unauthorized(failure) => ApiError::Unauthorized(failure),
            AuthRefusal::Throttled(wait) => ApiError::Throttled(wait),
            AuthRefusal::Forbidden { reason, .. } => ApiError::Refused(Refusal::Scim(reason)),
            AuthRefusal::RateLimited { wait, .. } => ApiError::RateLimited(wait),
            AuthRefusal::Lookup(LookupError::Busy) => ApiError::Busy,
            AuthRefusal::Lookup(LookupError::Unavailable(cause)) => ApiError::Unavailable(cause),
            AuthRefusal::Lookup(err @ LookupError::Failed(_)) => ApiError::internal(err),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) | ApiError::InvalidJwt(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Refused(refusal) => refusal_status(refusal),
            ApiError::RateLimited(_) | ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) | ApiError::NoSuchEndpoint(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid(err) if err.scim_type() == ScimType::Uniqueness => {
                StatusCode::CONFLICT
            }
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) | ApiError::TooManyOperations(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::UnresolvedReference(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Unavailable(_) | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let (status, body) = self.scim_body();
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
    /// The status and the RFC 7644 §3.12 error body: `status` as a string, `scimType` where one
    /// applies.
    pub fn scim_body(&self) -> (StatusCode, serde_json::Value) {
        let status = self.status_code();
        let mut body = json!({
            "schemas": [schema::ERROR],
            "status": status.as_str(),
            "detail": self.detail(),
        });
        if let Some(scim_type) = self.scim_type() {
            body["scimType"] = json!(scim_type.as_str());
        }
        (status, body)
    }

    pub(crate) fn log(&self) {
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %Chain(cause.as_ref()), "request failed");
            }
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            ApiError::Busy => {
                tracing::warn!("the database is busy: no connection or lock free in time")
            }
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
            ApiError::RateLimited(wait) | ApiError::Throttled(wait) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_kind_on_the_wire() {
        let seats = ApiError::from(ProvisioningError::Refused(Refusal::SeatLimit {
            used: 3,
            seats: 3,
        }));
        assert_eq!(seats.status_code(), StatusCode::FORBIDDEN);
        assert_eq!(seats.scim_type(), None);
        let taken = ApiError::from(ProvisioningError::Invalid(DomainError::Uniqueness(
            "taken".into(),
        )));
        assert_eq!(taken.status_code(), StatusCode::CONFLICT);
        assert_eq!(taken.scim_type(), Some(ScimType::Uniqueness));
        let member = ApiError::from(ProvisioningError::from(StoreError::Domain(
            DomainError::invalid_value("no such member"),
        )));
        assert_eq!(member.scim_type(), Some(ScimType::InvalidValue));
        let limit = ApiError::from(AdminError::Refused(Refusal::TokenLimit {
            active: 5,
            max: 5,
        }));
        assert_eq!(limit.status_code(), StatusCode::CONFLICT);
        let enforcement = ApiError::from(AdminError::Refused(Refusal::EnforcementNeedsSso));
        assert_eq!(enforcement.scim_type(), Some(ScimType::InvalidValue));
    }

    #[test]
    fn internal_errors_log_their_whole_cause_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let err = ApiError::internal(Outer(std::io::Error::other("inner")));
        assert_eq!(err.to_string(), "internal error: outer: inner");
        assert_eq!(
            err.detail(),
            "An internal error occurred; it has been logged."
        );
    }
}
