//! `POST /.search` at a workspace's SCIM Base URL (RFC 7644 §3.4.3): users, then groups, as one
//! listing whose `startIndex` and `count` run over both.

use actix_web::{HttpResponse, web};
use webwork_scim_domain::ScimType;

use super::body::JsonBody;
use super::list::ListParams;
use super::listing::Listed;
use super::render;
use crate::usecases::ScimCaller;
use crate::{ApiError, AppState};

/// A filter one resource type cannot evaluate (it names an attribute only the other has) selects
/// none of that type; when neither can, the request is refused with the users' error.
fn cannot_filter(err: &ApiError) -> bool {
    err.scim_type() == Some(ScimType::InvalidFilter)
}

fn empty(params: &ListParams) -> render::Page {
    render::Page {
        start_index: params.start_index,
        ..render::Page::default()
    }
}

pub async fn search(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let params = ListParams::from_search(&body)?;
    if params.cursor.is_some() {
        return Err(webwork_scim_domain::DomainError::invalid_value(
            "cursors page /Users and /Groups; at the root, page by 'startIndex'",
        )
        .into());
    }
    let (users, users_error) = match Listed::Users.page(&state, &tenant, params.clone()).await {
        Ok(page) => (page, None),
        Err(err) if cannot_filter(&err) => (empty(&params), Some(err)),
        Err(err) => return Err(err),
    };
    // The groups' window begins where the users' ends.
    let shown = i64::try_from(users.resources.len()).unwrap_or(i64::MAX);
    let group_params = ListParams {
        start_index: (params.offset() - users.total).max(0) + 1,
        count: (params.count - shown).max(0),
        ..params.clone()
    };
    let groups = match Listed::Groups.page(&state, &tenant, group_params).await {
        Ok(page) => page,
        Err(err) if cannot_filter(&err) => match users_error {
            Some(first) => return Err(first),
            None => empty(&params),
        },
        Err(err) => return Err(err),
    };
    let mut resources = users.resources;
    resources.extend(groups.resources);
    let page = render::Page {
        total: users.total + groups.total,
        start_index: params.start_index,
        resources,
        cursors: None,
    };
    Ok(page.respond())
}
