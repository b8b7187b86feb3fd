//! Cursor pagination (RFC 9865) of `/Users` and `/Groups`, in creation order: a page begins
//! just after the resource its cursor names (or ends just before it, for `previousCursor`), so
//! that resources created or deleted between pages neither repeat nor go missing.

use webwork_scim_domain::WorkspaceId;
use webwork_scim_domain::cursor::Cursor;

use super::list::ListParams;
use super::render::Page;
use crate::ApiError;

/// The part of a listing one query reads: ids after or before a bound, then a window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub after: Option<String>,
    pub before: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

fn cursor(workspace: WorkspaceId, backward: bool, id: Option<String>) -> Option<String> {
    id.map(|id| {
        Cursor {
            workspace,
            backward,
            id,
        }
        .encode()
    })
}

/// The page `params` ask for, by cursor when they carry one, else by index; `fetch` reads one
/// window (its `total` counts every match within the window's bounds).
pub async fn paged(
    params: &ListParams,
    workspace: WorkspaceId,
    fetch: impl AsyncFn(Window) -> Result<Page, ApiError>,
) -> Result<Page, ApiError> {
    if params.cursor.is_some() {
        return page(params, workspace, fetch).await;
    }
    let window = Window {
        offset: params.offset(),
        limit: params.count,
        ..Window::default()
    };
    let mut page = fetch(window).await?;
    page.start_index = params.start_index;
    Ok(page)
}

/// The page `params.cursor` asks for.
async fn page(
    params: &ListParams,
    workspace: WorkspaceId,
    fetch: impl AsyncFn(Window) -> Result<Page, ApiError>,
) -> Result<Page, ApiError> {
    let raw = params.cursor.as_deref().unwrap_or_default();
    let position = match raw.is_empty() {
        true => None,
        false => Some(Cursor::decode(raw, workspace)?),
    };
    let count = params.count;
    let total = fetch(Window::default()).await?.total;
    let (mut page, earlier, later) = match position {
        Some(Cursor {
            backward: true, id, ..
        }) => {
            let before = Window {
                before: Some(id),
                ..Window::default()
            };
            let preceding = fetch(before.clone()).await?.total;
            let offset = (preceding - count).max(0);
            let page = fetch(Window {
                offset,
                limit: count,
                ..before
            })
            .await?;
            (page, offset > 0, true)
        }
        position => {
            let started = position.is_some();
            let page = fetch(Window {
                after: position.map(|p| p.id),
                limit: count,
                ..Window::default()
            })
            .await?;
            let later = page.total > i64::try_from(page.resources.len()).unwrap_or(i64::MAX);
            (page, started, later)
        }
    };
    let next = cursor(
        workspace,
        false,
        later.then(|| page.edge_id(true)).flatten(),
    );
    let previous = cursor(
        workspace,
        true,
        earlier.then(|| page.edge_id(false)).flatten(),
    );
    page.total = total;
    page.cursors = Some((next, previous));
    Ok(page)
}
