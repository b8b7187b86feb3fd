//! Content negotiation of the SCIM endpoints (RFC 7644 §3.8): every answer is JSON, so a request
//! whose `Accept` allows neither `application/scim+json` nor `application/json` (nor a wildcard
//! that covers them) gets 406. A request without `Accept` accepts anything.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use crate::ApiError;

/// Whether the `Accept` value `accept` allows a JSON answer.
pub fn allows_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|param| {
            let param = param.trim().to_ascii_lowercase();
            param
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !refused
            && matches!(
                media.as_str(),
                "*/*" | "application/*" | "application/json" | "application/scim+json"
            )
    })
}

pub async fn require_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let accept: Vec<&str> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .collect();
    if !accept.is_empty() && !accept.iter().any(|value| allows_json(value)) {
        let response: HttpResponse = ApiError::NotAcceptable.error_response();
        return Ok(req.into_response(response));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::allows_json;

    #[test]
    fn json_or_a_wildcard_is_acceptable_and_q_zero_is_not() {
        for accepted in [
            "application/scim+json",
            "application/json; charset=utf-8",
            "text/html, application/*;q=0.5",
            "*/*",
            "APPLICATION/SCIM+JSON",
        ] {
            assert!(allows_json(accepted), "{accepted}");
        }
        for refused in [
            "text/html",
            "application/xml",
            "application/json;q=0",
            "text/*",
        ] {
            assert!(!allows_json(refused), "{refused}");
        }
    }
}
