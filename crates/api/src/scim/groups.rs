//! `/Groups`: list, create, read, replace, patch and delete. `excludedAttributes=members` (or
//! `attributes` without `members`) keeps the members from being loaded at all.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{Group, GroupChange, GroupDraft, GroupId};

use super::auth::ScimTenant;
use super::body::JsonBody;
use super::list::{ListParams, Projection};
use super::{base_url, render};
use crate::provisioning::groups as provisioning;
use crate::{ApiError, AppState};

/// An id that is not one of ours cannot name a group: 404, like an unknown one.
fn group_id(raw: &str) -> Result<GroupId, ApiError> {
    raw.parse().map_err(|_| ApiError::group_not_found(raw))
}

fn resource(
    state: &AppState,
    tenant: &ScimTenant,
    group: &Group,
    projection: &Projection,
) -> serde_json::Value {
    let mut resource = render::group(group, &base_url(state, tenant));
    projection.apply(&mut resource);
    resource
}

fn group_response(
    state: &AppState,
    tenant: &ScimTenant,
    status: StatusCode,
    group: &Group,
    projection: &Projection,
) -> HttpResponse {
    let body = resource(state, tenant, group, projection);
    let mut response = render::respond(status, &body, Some(group.version));
    if status == StatusCode::CREATED
        && let Some(location) = body["meta"]["location"].as_str()
        && let Ok(value) = header::HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub async fn list(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = ListParams::parse(req.query_string())?;
    let (start_index, projection) = (params.start_index, params.projection.clone());
    let page = provisioning::list_groups(&state, &tenant, params).await?;
    let resources = page
        .groups
        .iter()
        .map(|group| resource(&state, &tenant, group, &projection))
        .collect();
    let body = render::list_response(page.total, start_index, resources);
    Ok(render::respond(StatusCode::OK, &body, None))
}

pub async fn create(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let projection = Projection::parse(req.query_string())?;
    let draft = GroupDraft::from_scim(&body)?;
    let group =
        provisioning::create_group(&state, &tenant, draft, projection.returns("members")).await?;
    Ok(group_response(
        &state,
        &tenant,
        StatusCode::CREATED,
        &group,
        &projection,
    ))
}

pub async fn get(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let group = provisioning::get_group(&state, &tenant, id, projection.returns("members")).await?;
    Ok(group_response(
        &state,
        &tenant,
        StatusCode::OK,
        &group,
        &projection,
    ))
}

pub async fn replace(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let draft = GroupDraft::from_scim(&body)?;
    let group =
        provisioning::replace_group(&state, &tenant, id, draft, projection.returns("members"))
            .await?;
    Ok(group_response(
        &state,
        &tenant,
        StatusCode::OK,
        &group,
        &projection,
    ))
}

/// 204 unless the request asks for attributes back (RFC 7644 §3.5.2 allows either), so that a
/// membership change on a big group never renders the whole group.
pub async fn patch(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let wants_body = projection.is_requested();
    let changes = GroupChange::from_patch(&PatchRequest::parse(&body)?)?;
    let respond_with = wants_body.then(|| projection.returns("members"));
    match provisioning::patch_group(&state, &tenant, id, changes, respond_with).await? {
        Some(group) => Ok(group_response(
            &state,
            &tenant,
            StatusCode::OK,
            &group,
            &projection,
        )),
        None => Ok(HttpResponse::NoContent().finish()),
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    tenant: ScimTenant,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    provisioning::delete_group(&state, &tenant, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
