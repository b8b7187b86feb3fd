//! `GET /Users`, `GET /Groups` and their `/.search`: one listing for both resource types, by
//! index or by cursor; only the window each reads differs (`users::window_of`,
//! `groups::window_of`).

use actix_web::{HttpRequest, HttpResponse, web};

use super::body::JsonBody;
use super::cursor_page::{self, Window};
use super::list::ListParams;
use super::{groups, render, users};
use crate::usecases::ScimCaller;
use crate::{ApiError, AppState};

/// The resource type a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Users,
    Groups,
}

impl Listed {
    /// One page as `params` ask, rendered: by index, or by cursor when one is given.
    pub async fn page(
        self,
        state: &AppState,
        tenant: &ScimCaller,
        params: ListParams,
    ) -> Result<render::Page, ApiError> {
        let workspace = tenant.tenant.workspace_id;
        cursor_page::paged(&params, workspace, async |window: Window| match self {
            Listed::Users => users::window_of(state, tenant, &params, window).await,
            Listed::Groups => groups::window_of(state, tenant, &params, window).await,
        })
        .await
    }
}

/// `GET` of the collection, its parameters in the query.
pub async fn list(
    listed: Listed,
    state: web::Data<AppState>,
    tenant: ScimCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = ListParams::parse(req.query_string())?;
    Ok(listed.page(&state, &tenant, params).await?.respond())
}

/// `POST /.search` of the collection (RFC 7644 §3.4.3): its parameters in the body.
pub async fn search(
    listed: Listed,
    state: web::Data<AppState>,
    tenant: ScimCaller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let params = ListParams::from_search(&body)?;
    Ok(listed.page(&state, &tenant, params).await?.respond())
}
