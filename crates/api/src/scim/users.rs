//! `/Users`: list, create, read, replace, patch and delete.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{User, UserDraft, UserId};

use super::auth::ScimTenant;
use super::body::JsonBody;
use super::list::{ListParams, Projection};
use super::{base_url, render};
use crate::{ApiError, AppState, provisioning};

/// An id that is not one of ours cannot name a user: 404, like an unknown one.
fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| ApiError::user_not_found(raw))
}

pub async fn list(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = ListParams::parse(req.query_string())?;
    let (start_index, projection) = (params.start_index, params.projection.clone());
    let page = provisioning::list_users(&state, &tenant, params).await?;
    let url = base_url(&state, &tenant);
    let resources = page
        .users
        .iter()
        .map(|user| {
            let mut resource = render::user(user, &url);
            projection.apply(&mut resource);
            resource
        })
        .collect();
    let body = render::list_response(page.total, start_index, resources);
    Ok(render::respond(StatusCode::OK, &body, None))
}

pub async fn create(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let draft = UserDraft::from_scim(&body)?;
    let user = provisioning::create_user(&state, &tenant, draft).await?;
    let resource = render::user(&user, &base_url(&state, &tenant));
    let mut response = render::respond(StatusCode::CREATED, &resource, Some(user.version));
    if let Some(location) = resource["meta"]["location"].as_str()
        && let Ok(value) = header::HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// 200 with the user as a SCIM resource and its ETag.
fn user_response(state: &AppState, tenant: &ScimTenant, user: &User) -> HttpResponse {
    let resource = render::user(user, &base_url(state, tenant));
    render::respond(StatusCode::OK, &resource, Some(user.version))
}

pub async fn get(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let user = provisioning::get_user(&state, &tenant, id).await?;
    let mut resource = render::user(&user, &base_url(&state, &tenant));
    projection.apply(&mut resource);
    Ok(render::respond(
        StatusCode::OK,
        &resource,
        Some(user.version),
    ))
}

pub async fn replace(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    let draft = UserDraft::from_scim(&body)?;
    let user = provisioning::replace_user(&state, &tenant, id, draft).await?;
    Ok(user_response(&state, &tenant, &user))
}

pub async fn patch(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    let patch = PatchRequest::parse(&body)?;
    let user = provisioning::patch_user(&state, &tenant, id, patch).await?;
    Ok(user_response(&state, &tenant, &user))
}

pub async fn delete(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    provisioning::delete_user(&state, &tenant, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
