//! `/Groups`: list, create, read, replace, patch and delete. `excludedAttributes=members` (or
//! `attributes` without `members`) keeps the members from being loaded at all.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{Group, GroupChange, GroupDraft, GroupId};

use super::body::JsonBody;
use super::cursor_page::Window;
use super::list::{ListParams, Projection};
use super::listing::{self, Listed};
use super::{base_url, if_match, if_none_match, render};
use crate::usecases::groups::GroupListing;
use crate::usecases::{NotFound, Resource, ScimCaller};
use crate::{ApiError, AppState};

/// An id that is not one of ours cannot name a group: 404, like an unknown one.
pub(super) fn group_id(raw: &str) -> Result<GroupId, ApiError> {
    raw.parse()
        .map_err(|_| NotFound::new(Resource::Group, raw).into())
}

fn resource(
    state: &AppState,
    tenant: &ScimCaller,
    group: &Group,
    projection: &Projection,
) -> serde_json::Value {
    let mut resource = render::group(group, &base_url(state, tenant));
    projection.apply(&mut resource);
    resource
}

fn group_response(
    state: &AppState,
    tenant: &ScimCaller,
    status: StatusCode,
    group: &Group,
    projection: &Projection,
) -> HttpResponse {
    let body = resource(state, tenant, group, projection);
    let mut response = render::respond(status, &body, Some(&group.version.to_string()));
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
    tenant: ScimCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    listing::list(Listed::Groups, state, tenant, req).await
}

/// `POST /Groups/.search` (RFC 7644 §3.4.3).
pub async fn search(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    listing::search(Listed::Groups, state, tenant, body).await
}

/// The groups of `window` that `params` select, in its order, rendered as it projects them.
pub(super) async fn window_of(
    state: &AppState,
    tenant: &ScimCaller,
    params: &ListParams,
    window: Window,
) -> Result<render::Page, ApiError> {
    let listing = GroupListing {
        offset: window.offset,
        limit: window.limit,
        with_members: params.projection.returns("members"),
        filter: params.filter.clone(),
        sort: params.sort.clone(),
        after: window.after,
        before: window.before,
    };
    let page = state.use_cases.list_groups(tenant, listing).await?;
    let resources = page
        .groups
        .iter()
        .map(|group| render::Resource::Value(resource(state, tenant, group, &params.projection)))
        .collect();
    Ok(render::Page {
        total: page.total,
        start_index: 1,
        resources,
        cursors: None,
    })
}

pub async fn create(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let projection = Projection::parse(req.query_string())?;
    let draft = GroupDraft::from_scim(&body)?;
    let group = state
        .use_cases
        .create_group(&tenant, draft, projection.returns("members"))
        .await?;
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
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let group = state
        .use_cases
        .get_group(&tenant, id, projection.returns("members"))
        .await?;
    let tag = group.version.to_string();
    if if_none_match(&req).is_some_and(|tags| tags.admits(&tag)) {
        return Ok(render::not_modified(&tag));
    }
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
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let draft = GroupDraft::from_scim(&body)?;
    let with_members = projection.returns("members");
    let group = state
        .use_cases
        .replace_group(&tenant, id, draft, if_match(&req), with_members)
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
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let wants_body = projection.is_requested();
    let changes = GroupChange::from_patch(&PatchRequest::parse(body)?)?;
    let respond_with = wants_body.then(|| projection.returns("members"));
    let patched = state
        .use_cases
        .patch_group(&tenant, id, changes, if_match(&req), respond_with)
        .await?;
    match patched {
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
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = group_id(&path.1)?;
    state
        .use_cases
        .delete_group(&tenant, id, if_match(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
