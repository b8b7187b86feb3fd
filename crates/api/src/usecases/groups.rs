//! SCIM groups: list, read, create, replace, patch and delete. Each change writes the group, its
//! audit event and its lifecycle events in one transaction; membership changes are applied by
//! the store row by row, never by rewriting a whole group.

use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{AuditAction, AuditEvent, Group, GroupChange, GroupDraft, GroupId};
use webwork_scim_persistence::groups::{self, GroupPage, GroupQuery};
use webwork_scim_persistence::{Access, StoreError, TenantTx};

use super::errors::uniqueness;
use super::events;
use super::{IfMatch, NotFound, ProvisioningError, Resource, ScimCaller, UseCases};

/// A page of groups as SCIM lists them; members only when the response shows them.
#[derive(Debug, Clone)]
pub struct GroupListing {
    pub filter: Option<Filter>,
    pub sort: Option<webwork_scim_domain::sort::SortBy>,
    /// Only groups created after, or before, the group with this id (cursor pages).
    pub after: Option<String>,
    pub before: Option<String>,
    pub offset: i64,
    pub limit: i64,
    pub with_members: bool,
}

fn not_found(id: GroupId) -> NotFound {
    NotFound::new(Resource::Group, id)
}

fn taken(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a group named '{name}' already exists in this workspace")
}

/// The group after a write, with its members when the response shows them.
fn reread(
    tx: &mut TenantTx<'_>,
    id: GroupId,
    with_members: bool,
) -> Result<Group, ProvisioningError> {
    Ok(groups::find(tx, id, with_members)?.ok_or_else(|| not_found(id))?)
}

/// Locks group `id` and checks the client's `If-Match` against it.
fn lock_checked(
    tx: &mut TenantTx<'_>,
    id: GroupId,
    if_match: Option<&IfMatch>,
) -> Result<Group, ProvisioningError> {
    let group = groups::lock(tx, id)?.ok_or_else(|| not_found(id))?;
    IfMatch::check(if_match, &group.version.to_string())?;
    Ok(group)
}

/// The name a change would give the group, for the uniqueness error it may meet.
fn new_name(changes: &[GroupChange]) -> String {
    changes
        .iter()
        .rev()
        .find_map(|change| match change {
            GroupChange::DisplayName(name) => Some(name.as_str().to_owned()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Applies `changes` to group `id` (locked and checked) and records what changed.
fn change(
    tx: &mut TenantTx<'_>,
    caller: &ScimCaller,
    id: GroupId,
    changes: &[GroupChange],
    if_match: Option<&IfMatch>,
) -> Result<(), ProvisioningError> {
    lock_checked(tx, id, if_match)?;
    let name = new_name(changes);
    let write = groups::apply(tx, id, changes)
        .map_err(|err: StoreError| uniqueness::<ProvisioningError>(err, taken(&name)))?
        .ok_or_else(|| not_found(id))?;
    if write.changed() {
        let tenant = &caller.tenant;
        let workspace = (tenant.workspace_id, &tenant.workspace_key);
        events::group_written(tx, workspace, &caller.caller(), &write, false)?;
    }
    Ok(())
}

impl UseCases {
    pub async fn list_groups(
        &self,
        caller: &ScimCaller,
        listing: GroupListing,
    ) -> Result<GroupPage, ProvisioningError> {
        self.for_caller(caller, Access::Read, move |tx, _| {
            let query = GroupQuery {
                filter: listing.filter.as_ref(),
                sort: listing.sort.as_ref(),
                after: listing.after.as_deref(),
                before: listing.before.as_deref(),
                offset: listing.offset,
                limit: listing.limit,
                with_members: listing.with_members,
                member_budget: groups::MAX_MEMBERS_PER_PAGE,
            };
            Ok(groups::list(tx, query)?)
        })
        .await
    }

    pub async fn get_group(
        &self,
        caller: &ScimCaller,
        id: GroupId,
        with_members: bool,
    ) -> Result<Group, ProvisioningError> {
        self.for_caller(caller, Access::Read, move |tx, _| {
            reread(tx, id, with_members)
        })
        .await
    }

    pub async fn create_group(
        &self,
        caller: &ScimCaller,
        draft: GroupDraft,
        with_members: bool,
    ) -> Result<Group, ProvisioningError> {
        self.for_caller(caller, Access::Write, move |tx, caller| {
            let write = groups::insert(tx, &draft).map_err(|err| {
                uniqueness::<ProvisioningError>(err, taken(draft.display_name.as_str()))
            })?;
            let tenant = &caller.tenant;
            let workspace = (tenant.workspace_id, &tenant.workspace_key);
            events::group_written(tx, workspace, &caller.caller(), &write, true)?;
            reread(tx, write.group.id, with_members)
        })
        .await
    }

    /// PUT: the body's name and external id; its member list when it carries one.
    pub async fn replace_group(
        &self,
        caller: &ScimCaller,
        id: GroupId,
        draft: GroupDraft,
        if_match: Option<IfMatch>,
        with_members: bool,
    ) -> Result<Group, ProvisioningError> {
        let mut changes = vec![
            GroupChange::DisplayName(draft.display_name),
            GroupChange::ExternalId(draft.external_id),
        ];
        if let Some(ids) = draft.members {
            changes.push(GroupChange::ReplaceMembers(ids));
        }
        self.for_caller(caller, Access::Write, move |tx, caller| {
            change(tx, caller, id, &changes, if_match.as_ref())?;
            reread(tx, id, with_members)
        })
        .await
    }

    /// PATCH: applies `changes` in order. Returns the group afterwards when `respond_with` asks
    /// for it (with or without members), else `None` for a 204.
    pub async fn patch_group(
        &self,
        caller: &ScimCaller,
        id: GroupId,
        changes: Vec<GroupChange>,
        if_match: Option<IfMatch>,
        respond_with: Option<bool>,
    ) -> Result<Option<Group>, ProvisioningError> {
        self.for_caller(caller, Access::Write, move |tx, caller| {
            change(tx, caller, id, &changes, if_match.as_ref())?;
            respond_with
                .map(|with_members| reread(tx, id, with_members))
                .transpose()
        })
        .await
    }

    pub async fn delete_group(
        &self,
        caller: &ScimCaller,
        id: GroupId,
        if_match: Option<IfMatch>,
    ) -> Result<(), ProvisioningError> {
        self.for_caller(caller, Access::Write, move |tx, caller| {
            lock_checked(tx, id, if_match.as_ref())?;
            let group = groups::delete(tx, id)?.ok_or_else(|| not_found(id))?;
            let deleted = [AuditEvent::new(AuditAction::GroupDeleted, id)];
            events::audit(tx, &caller.caller(), &deleted)?;
            let tenant = &caller.tenant;
            let workspace = (tenant.workspace_id, &tenant.workspace_key);
            events::enqueue_group_deleted(tx, workspace, &caller.actor(), &group)?;
            Ok(())
        })
        .await
    }
}
