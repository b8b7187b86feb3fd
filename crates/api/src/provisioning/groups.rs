//! The use cases of SCIM group provisioning. Each writes the change, its audit events and its
//! lifecycle events in one transaction on the blocking pool; membership changes are applied by
//! the store row by row, never by rewriting a whole group.

use webwork_scim_domain::{AuditEvent, Group, GroupChange, GroupDraft, GroupId};
use webwork_scim_persistence::groups::{self, GroupPage, GroupQuery, GroupWrite};
use webwork_scim_persistence::{StoreError, TenantTx, audit};

use crate::blocking::run_blocking;
use crate::scim::auth::ScimTenant;
use crate::scim::list::ListParams;
use crate::{ApiError, AppState, lifecycle};

fn taken(name: &str) -> impl FnOnce() -> String {
    let name = name.to_owned();
    move || format!("a group named '{name}' already exists in this workspace")
}

fn not_found(id: GroupId) -> ApiError {
    ApiError::group_not_found(&id.to_string())
}

/// The audit event and lifecycle events of a group write.
fn record(
    tx: &mut TenantTx<'_>,
    caller: &ScimTenant,
    write: &GroupWrite,
    created: bool,
) -> Result<(), StoreError> {
    let action = if created {
        "group.created"
    } else {
        "group.updated"
    };
    let actor = caller.actor();
    let event = AuditEvent::new(action, write.group.id).with_attributes(write.attributes.clone());
    audit::record_all(tx, &actor, caller.request_id.as_deref(), &[event])?;
    let workspace = (caller.tenant.workspace_id, &caller.tenant.workspace_key);
    lifecycle::enqueue_group_events(tx, workspace, &actor, write, created)
}

/// The group after a write, with its members when the response shows them.
fn reread(tx: &mut TenantTx<'_>, id: GroupId, with_members: bool) -> Result<Group, ApiError> {
    groups::find(tx, id, with_members)?.ok_or_else(|| not_found(id))
}

pub async fn list_groups(
    state: &AppState,
    caller: &ScimTenant,
    params: ListParams,
) -> Result<GroupPage, ApiError> {
    let store = state.store.clone();
    let workspace = caller.tenant.workspace_id;
    run_blocking(move || {
        store.read(workspace, |tx| {
            groups::list(
                tx,
                GroupQuery {
                    filter: params.filter.as_ref(),
                    offset: params.offset(),
                    limit: params.count,
                    with_members: params.projection.returns("members"),
                    member_budget: groups::MAX_MEMBERS_PER_PAGE,
                },
            )
        })
    })
    .await?
    .map_err(ApiError::from)
}

pub async fn get_group(
    state: &AppState,
    caller: &ScimTenant,
    id: GroupId,
    with_members: bool,
) -> Result<Group, ApiError> {
    let store = state.store.clone();
    let workspace = caller.tenant.workspace_id;
    run_blocking(move || store.read(workspace, |tx| groups::find(tx, id, with_members)))
        .await??
        .ok_or_else(|| not_found(id))
}

pub async fn create_group(
    state: &AppState,
    caller: &ScimTenant,
    draft: GroupDraft,
    with_members: bool,
) -> Result<Group, ApiError> {
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        store.write(caller.tenant.workspace_id, |tx| {
            let write = groups::insert(tx, &draft)
                .map_err(|err| ApiError::from_store(err, taken(draft.display_name.as_str())))?;
            record(tx, &caller, &write, true)?;
            reread(tx, write.group.id, with_members)
        })
    })
    .await?
}

/// PUT: the body's name and external id; its member list when it carries one.
pub async fn replace_group(
    state: &AppState,
    caller: &ScimTenant,
    id: GroupId,
    draft: GroupDraft,
    with_members: bool,
) -> Result<Group, ApiError> {
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        store.write(caller.tenant.workspace_id, |tx| {
            let write = groups::replace(tx, id, &draft)
                .map_err(|err| ApiError::from_store(err, taken(draft.display_name.as_str())))?
                .ok_or_else(|| not_found(id))?;
            if write.changed() {
                record(tx, &caller, &write, false)?;
            }
            reread(tx, id, with_members)
        })
    })
    .await?
}

/// PATCH: applies `changes` in order. Returns the group afterwards when `respond_with` asks for
/// it (with or without members), else `None` for a 204.
pub async fn patch_group(
    state: &AppState,
    caller: &ScimTenant,
    id: GroupId,
    changes: Vec<GroupChange>,
    respond_with: Option<bool>,
) -> Result<Option<Group>, ApiError> {
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        store.write(caller.tenant.workspace_id, |tx| {
            let write = groups::apply(tx, id, &changes)
                .map_err(|err| {
                    let renamed = changes.iter().rev().find_map(|change| match change {
                        GroupChange::DisplayName(name) => Some(name.as_str().to_owned()),
                        _ => None,
                    });
                    ApiError::from_store(err, taken(renamed.as_deref().unwrap_or_default()))
                })?
                .ok_or_else(|| not_found(id))?;
            if write.changed() {
                record(tx, &caller, &write, false)?;
            }
            respond_with
                .map(|with_members| reread(tx, id, with_members))
                .transpose()
        })
    })
    .await?
}

pub async fn delete_group(
    state: &AppState,
    caller: &ScimTenant,
    id: GroupId,
) -> Result<(), ApiError> {
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        store.write(caller.tenant.workspace_id, |tx| -> Result<(), ApiError> {
            let group = groups::delete(tx, id)?.ok_or_else(|| not_found(id))?;
            let actor = caller.actor();
            let event = AuditEvent::new("group.deleted", id);
            audit::record_all(tx, &actor, caller.request_id.as_deref(), &[event])?;
            let workspace = (caller.tenant.workspace_id, &caller.tenant.workspace_key);
            lifecycle::enqueue_group_deleted(tx, workspace, &actor, &group)?;
            Ok(())
        })
    })
    .await?
}
