//! `ApiError`: every failure an HTTP caller can see, with the one place that turns it into a
//! status code and an RFC 7644 §3.12 error body.
//!
//! Use the variant that names what went wrong for the caller; wrap anything unexpected with
//! [`ApiError::internal`], which logs the cause once and shows the caller only a generic detail.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use webwork_scim_domain::schema;
use webwork_scim_domain::{DomainError, ScimType};
use webwork_scim_persistence::StoreError;
use webwork_scim_tenancy::AuthFailure;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown, wrong, revoked or expired token, or an unknown workspace: all
    /// answered alike so that nothing can be learned by probing.
    #[error("unauthorized: {0}")]
    Unauthorized(AuthFailure),
    /// The workspace's plan does not include SCIM provisioning.
    #[error("SCIM provisioning requires the Premium plan")]
    PlanRequired,
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
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The database cannot be reached; the client should retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
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

    /// A store failure in the context of a users request.
    pub fn from_store(err: StoreError, conflict_detail: impl FnOnce() -> String) -> ApiError {
        match err {
            StoreError::Conflict => ApiError::Domain(DomainError::Uniqueness(conflict_detail())),
            other => ApiError::from(other),
        }
    }

    fn scim_type(&self) -> Option<ScimType> {
        match self {
            ApiError::Domain(err) => Some(err.scim_type()),
            _ => None,
        }
    }

    fn detail(&self) -> String {
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
            ApiError::Internal(_) => "An internal error occurred; it has been logged.".into(),
            ApiError::Unavailable(_) => {
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
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::PlanRequired => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Domain(err) if err.scim_type() == ScimType::Uniqueness => {
                StatusCode::CONFLICT
            }
            ApiError::Domain(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            ApiError::Unauthorized(reason) => {
                tracing::info!(reason = reason.reason(), "authentication failed");
            }
            _ => {}
        }
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
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"webwork-scim\""),
                ));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            _ => {}
        }
        response.body(body.to_string())
    }
}
