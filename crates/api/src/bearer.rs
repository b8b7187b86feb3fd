//! The credential of `Authorization: Bearer <credential>`, shared by every API.

use actix_web::HttpRequest;
use actix_web::http::header;
use webwork_scim_tenancy::AuthFailure;

/// The bearer credential of `req`: `Missing` without the header, `Malformed` for another scheme
/// or a header that is not text.
pub fn credential(req: &HttpRequest) -> Result<&str, AuthFailure> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?
        .to_str()
        .map_err(|_| AuthFailure::Malformed)?;
    let (scheme, credential) = value.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Malformed);
    }
    Ok(credential.trim())
}
