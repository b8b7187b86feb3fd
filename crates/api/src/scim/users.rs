//! `/Users`: list, create, read, replace, patch and delete.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;
use webwork_scim_domain::patch::PatchRequest;

use webwork_scim_domain::{User, UserDraft, UserId};
use webwork_scim_persistence::StoreError;

use super::body::JsonBody;
use super::cursor_page::Window;
use super::list::{ListParams, Projection};
use super::listing::{self, Listed};
use super::user_resource::{ListedResource, Location, UserResource};
use super::{base_url, if_match, if_none_match, render};
use crate::usecases::users::UserQuery;
use crate::usecases::{NotFound, Resource, ScimCaller};
use crate::{ApiError, AppState};

/// An id that is not one of ours cannot name a user: 404, like an unknown one.
pub(super) fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse()
        .map_err(|_| NotFound::new(Resource::User, raw).into())
}

pub async fn list(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    listing::list(Listed::Users, state, tenant, req).await
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub async fn search(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    listing::search(Listed::Users, state, tenant, body).await
}

/// The users of `window` that `params` select, in its order, rendered as it projects them.
pub(super) async fn window_of(
    state: &AppState,
    tenant: &ScimCaller,
    params: &ListParams,
    window: Window,
) -> Result<render::Page, ApiError> {
    let query = UserQuery {
        offset: window.offset,
        limit: window.limit,
        filter: params.filter.clone(),
        sort: params.sort.clone(),
        after: window.after,
        before: window.before,
    };
    let page = state.use_cases.list_users(tenant, query).await?;
    let base: Arc<str> = base_url(state, tenant).into();
    let resources = page
        .users
        .into_iter()
        .map(|user| {
            if !params.projection.is_requested() {
                let listed = ListedResource::new(user, base.clone());
                return Ok(render::Resource::User(Box::new(listed)));
            }
            let user = user
                .parsed()
                .map_err(|err| StoreError::Corrupt(format!("a listed user's document: {err}")))?;
            let mut resource = render::user(user, &base);
            params.projection.apply(&mut resource);
            Ok(render::Resource::Value(resource))
        })
        .collect::<Result<_, ApiError>>()?;
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
    let draft = UserDraft::from_scim(&body)?;
    let user = state.use_cases.create_user(&tenant, draft).await?;
    let base = base_url(&state, &tenant);
    let location = Location {
        base: &base,
        collection: "Users",
        id: user.id,
    };
    let location = header::HeaderValue::from_str(&location.to_string()).ok();
    let mut response = user_response(StatusCode::CREATED, &base, &user, &projection);
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// 200 with the user as a SCIM resource, as `projection` shapes it, and its ETag.
fn user_response(
    status: StatusCode,
    base: &str,
    user: &User,
    projection: &Projection,
) -> HttpResponse {
    let tag = user.etag();
    if !projection.is_requested() {
        return render::respond(status, &UserResource::new(user, base, &tag), Some(&tag));
    }
    let mut resource = render::user_value(user, base, &tag);
    projection.apply(&mut resource);
    render::respond(status, &resource, Some(&tag))
}

pub async fn get(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let base = base_url(&state, &tenant);
    if projection.is_requested() {
        let user = state.use_cases.get_user(&tenant, id).await?;
        let tag = user.etag();
        return Ok(not_modified(&req, &tag)
            .unwrap_or_else(|| user_response(StatusCode::OK, &base, &user, &projection)));
    }
    // The whole resource, written from the document's stored text: building a map of it only to
    // write it out again was about a tenth of a GET's CPU.
    let user = state.use_cases.get_user_as_text(&tenant, id).await?;
    let tag = user.etag();
    Ok(not_modified(&req, &tag).unwrap_or_else(|| {
        render::respond(
            StatusCode::OK,
            &UserResource::new(&user, &base, &tag),
            Some(&tag),
        )
    }))
}

/// 304 for a GET whose `If-None-Match` names the user's current version, `tag`.
fn not_modified(req: &HttpRequest, tag: &str) -> Option<HttpResponse> {
    if_none_match(req)?
        .admits(tag)
        .then(|| render::not_modified(tag))
}

pub async fn replace(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let draft = UserDraft::from_scim(&body)?;
    let expected = if_match(&req);
    let user = state
        .use_cases
        .replace_user(&tenant, id, draft, expected)
        .await?;
    let base = base_url(&state, &tenant);
    Ok(user_response(StatusCode::OK, &base, &user, &projection))
}

pub async fn patch(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    let projection = Projection::parse(req.query_string())?;
    let patch = PatchRequest::parse(body)?;
    let expected = if_match(&req);
    let user = state
        .use_cases
        .patch_user(&tenant, id, patch, expected)
        .await?;
    let base = base_url(&state, &tenant);
    Ok(user_response(StatusCode::OK, &base, &user, &projection))
}

pub async fn delete(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path.1)?;
    state
        .use_cases
        .delete_user(&tenant, id, if_match(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
