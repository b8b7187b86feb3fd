//! The SCIM request body: `application/scim+json` or `application/json`, UTF-8, at most the
//! configured size, parsed as JSON. Every failure is a SCIM error.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde_json::Value;
use webwork_scim_domain::DomainError;

use crate::{ApiError, AppState};

/// A parsed JSON body of a SCIM or admin request.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<JsonBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            check_content_type(&req)?;
            let limit = req
                .app_data::<web::Data<AppState>>()
                .map_or(1_048_576, |state| state.config.max_body_bytes);
            let bytes = web::Bytes::from_request(&req, &mut payload)
                .await
                .map_err(|err| match err.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => ApiError::PayloadTooLarge(limit),
                    _ => ApiError::Invalid(DomainError::InvalidSyntax(format!(
                        "the request body could not be read: {err}"
                    ))),
                })?;
            if bytes.len() > limit {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(DomainError::InvalidSyntax("the request body is empty".into()).into());
            }
            serde_json::from_slice(&bytes).map(JsonBody).map_err(|err| {
                DomainError::InvalidSyntax(format!("the request body is not valid JSON: {err}"))
                    .into()
            })
        })
    }
}

/// `application/scim+json` and `application/json` are accepted, with an optional UTF-8
/// charset; a request without a Content-Type is read as JSON, as some IdPs omit it.
fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::UnsupportedMediaType("<not text>".into()))?;
    let mut parts = text.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    let json = essence.eq_ignore_ascii_case("application/scim+json")
        || essence.eq_ignore_ascii_case("application/json");
    let utf8 = parts.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            let value = value.trim().trim_matches('"');
            value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    });
    if json && utf8 {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(text.to_owned()))
    }
}
