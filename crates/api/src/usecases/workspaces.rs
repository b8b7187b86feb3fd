//! Workspaces, for the platform (billing, operators) and the command line: create, read, list,
//! change plan, seats, overrides and single sign-on, delete, export, erase a user, replay dead
//! events. Every change writes its audit event in its own transaction and drops what this
//! replica cached about the workspace.

use time::OffsetDateTime;
use webwork_scim_domain::{
    AuditAction, AuditEvent, Group, PlainText, Plan, User, UserId, Workspace, WorkspaceId,
    WorkspaceKey, WorkspaceName,
};
use webwork_scim_persistence::groups::{self, GroupQuery};
use webwork_scim_persistence::users::{self, ListQuery};
use webwork_scim_persistence::workspaces::{self, WorkspaceUpdate};
use webwork_scim_persistence::{
    Access, StoreError, TenantTx, outbox, provisioning_errors, unscoped,
};
use webwork_scim_tenancy::effective_entitlements;
use webwork_scim_tenancy::token::{hex, random_bytes};

use super::errors::uniqueness;
use super::events;
use super::{AdminError, Caller, NotFound, Resource, UseCases, in_workspace, run_blocking};

/// A workspace to create.
#[derive(Debug, Clone)]
pub struct NewWorkspace {
    pub name: WorkspaceName,
    pub plan: Plan,
    pub sso_enabled: bool,
    /// The seats billing sold it; `None` for no limit.
    pub seats: Option<u32>,
}

/// Every live user and group (with members) of a workspace, read in one transaction.
#[derive(Debug, Clone)]
pub struct Export {
    pub workspace: Workspace,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
}

/// The key of a workspace an admin named: one that cannot be a key names no workspace.
pub(crate) fn workspace_key(raw: &str) -> Result<WorkspaceKey, NotFound> {
    WorkspaceKey::parse(raw).map_err(|_| NotFound::new(Resource::Workspace, raw))
}

/// The names of the settings an update changes, for the audit log.
fn changed_settings(update: &WorkspaceUpdate) -> Vec<String> {
    [
        (update.plan.is_some(), "plan"),
        (update.sso_enabled.is_some(), "sso_enabled"),
        (update.sso_enforced.is_some(), "sso_enforced"),
        (update.idp_issuer.is_some(), "idp_issuer"),
        (update.seats.is_some(), "seats"),
        (update.overrides.is_some(), "entitlement_overrides"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_owned())
    .collect()
}

/// Applies `update` to the workspace locked in this transaction, under the single sign-on
/// rules of the plan it will be on, with its audit event.
pub(crate) fn apply_update(
    tx: &mut TenantTx<'_>,
    caller: &Caller,
    mut update: WorkspaceUpdate,
) -> Result<Workspace, AdminError> {
    let id = tx.workspace();
    let missing = || NotFound::new(Resource::Workspace, id);
    let current = workspaces::lock(tx)?.ok_or_else(missing)?;
    let plan = update.plan.unwrap_or(current.plan);
    let (overrides, overrides_expire_at) = match &update.overrides {
        Some((overrides, until)) => (overrides.clone(), *until),
        None => (current.overrides.clone(), current.overrides_expire_at),
    };
    let after = Workspace {
        plan,
        seats: update.seats.unwrap_or(current.seats),
        overrides,
        overrides_expire_at,
        ..current.clone()
    };
    let entitlements = effective_entitlements(&after, OffsetDateTime::now_utc());
    let sso = current.sso_after(update.sso_enabled, update.sso_enforced, plan, &entitlements)?;
    let attributes = changed_settings(&update);
    if update.sso_enabled.is_some() || update.sso_enforced.is_some() {
        update.sso_enabled = Some(sso.enabled);
        update.sso_enforced = Some(sso.enforced);
    }
    let workspace = workspaces::update(tx, update)?.ok_or_else(missing)?;
    let event =
        AuditEvent::new(AuditAction::WorkspaceUpdated, workspace.id).with_attributes(attributes);
    events::audit(tx, caller, &[event])?;
    Ok(workspace)
}

impl UseCases {
    /// Creates a workspace with its seats and its audit event in one transaction.
    pub async fn create_workspace(
        &self,
        caller: &Caller,
        new: NewWorkspace,
    ) -> Result<Workspace, AdminError> {
        let suffix = hex(&random_bytes::<4>()?);
        let key = WorkspaceKey::from_name_and_suffix(&new.name, &suffix)?;
        let store = self.store.clone();
        let caller = caller.clone();
        run_blocking(move || {
            store.write(WorkspaceId::generate(), |tx| {
                let mut workspace =
                    workspaces::create(tx, &key, &new.name, new.plan, new.sso_enabled).map_err(
                        |err| uniqueness::<AdminError>(err, || "the key is taken".into()),
                    )?;
                let mut attributes = vec!["plan".to_owned(), "sso_enabled".to_owned()];
                if new.seats.is_some() {
                    let update = WorkspaceUpdate {
                        seats: Some(new.seats),
                        ..WorkspaceUpdate::default()
                    };
                    workspace = workspaces::update(tx, update)?
                        .ok_or(StoreError::Corrupt("the new workspace vanished".into()))?;
                    attributes.push("seats".into());
                }
                let event = AuditEvent::new(AuditAction::WorkspaceCreated, workspace.id)
                    .with_attributes(attributes);
                events::audit(tx, &caller, &[event])?;
                Ok(workspace)
            })
        })
        .await
    }

    pub async fn find_workspace(&self, key: &str) -> Result<Workspace, AdminError> {
        let key = workspace_key(key)?;
        let store = self.store.clone();
        run_blocking(move || {
            unscoped::find_workspace(&store, &key)?
                .ok_or_else(|| NotFound::new(Resource::Workspace, key.as_str()).into())
        })
        .await
    }

    /// A page of live workspaces, oldest first, and how many there are.
    pub async fn list_workspaces(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<Workspace>), AdminError> {
        let store = self.store.clone();
        run_blocking(move || Ok(unscoped::list_workspaces(&store, offset, limit)?)).await
    }

    /// Changes a workspace's plan, seats, overrides or single sign-on, read, checked and
    /// written in one transaction.
    pub async fn update_workspace(
        &self,
        caller: &Caller,
        key: &str,
        update: WorkspaceUpdate,
    ) -> Result<Workspace, AdminError> {
        let changed_key = workspace_key(key)?;
        let caller = caller.clone();
        let workspace = in_workspace(&self.store, key, Access::Write, move |tx, _| {
            apply_update(tx, &caller, update)
        })
        .await?;
        self.auth.forget_workspace(&changed_key);
        Ok(workspace)
    }

    /// Deletes a workspace: its tokens are revoked and its key stops resolving at once; its
    /// data is purged after the grace period.
    pub async fn delete_workspace(
        &self,
        caller: &Caller,
        key: &str,
    ) -> Result<Workspace, AdminError> {
        let deleted_key = workspace_key(key)?;
        let caller = caller.clone();
        let workspace = in_workspace(&self.store, key, Access::Write, move |tx, workspace| {
            let revoked = webwork_scim_persistence::tokens::revoke_all(tx)?;
            workspaces::mark_deleted(tx)?;
            let event = AuditEvent::new(AuditAction::WorkspaceDeleted, workspace.id)
                .with_attributes(vec![format!("tokens_revoked:{revoked}")]);
            events::audit(tx, &caller, &[event])?;
            Ok::<_, AdminError>(workspace)
        })
        .await?;
        self.auth.forget_workspace(&deleted_key);
        Ok(workspace)
    }

    /// Every live user and every group (with its members), read page by page (by id) inside
    /// one read transaction, so that the export is one consistent view.
    pub async fn export_workspace(&self, key: &str) -> Result<Export, AdminError> {
        in_workspace(&self.store, key, Access::Read, |tx, workspace| {
            let (users, groups) = export_all(tx)?;
            Ok::<_, AdminError>(Export {
                workspace,
                users,
                groups,
            })
        })
        .await
    }

    /// Erases one user's personal data on request: the row stays as a scrubbed tombstone, every
    /// lifecycle event about the user (delivered or not) and every error record quoting its
    /// name, email or external id is deleted, and WebWork's app is told with `user.erased`, so
    /// that it can scrub its own copy.
    pub async fn erase_user(&self, caller: &Caller, key: &str, id: &str) -> Result<(), AdminError> {
        workspace_key(key)?;
        let user_id: UserId = id.parse().map_err(|_| NotFound::new(Resource::User, id))?;
        let caller = caller.clone();
        in_workspace(&self.store, key, Access::Write, move |tx, workspace| {
            erase(tx, &caller, &workspace, user_id)
        })
        .await
    }

    /// Gives dead lifecycle events of the workspace (or the one `event_id`) a fresh start.
    pub async fn replay_outbox(
        &self,
        caller: &Caller,
        key: &str,
        event_id: Option<PlainText>,
    ) -> Result<usize, AdminError> {
        let caller = caller.clone();
        in_workspace(&self.store, key, Access::Write, move |tx, workspace| {
            let id = event_id.as_ref().map(PlainText::as_str);
            replay_dead(tx, &caller, workspace.id, id)
        })
        .await
    }
}

impl UseCases {
    /// Gives every workspace's dead lifecycle events a fresh start, one workspace at a time,
    /// each audited in that workspace; returns how many events in all.
    pub async fn replay_all_outboxes(&self, caller: &Caller) -> Result<usize, AdminError> {
        let store = self.store.clone();
        let workspaces = run_blocking(move || {
            webwork_scim_persistence::unscoped::delivery::workspaces_with_dead_events(&store)
        })
        .await?;
        let mut replayed = 0;
        for workspace in workspaces {
            let (store, caller) = (self.store.clone(), caller.clone());
            replayed += run_blocking(move || {
                store.write(workspace, |tx| replay_dead(tx, &caller, workspace, None))
            })
            .await?;
        }
        Ok(replayed)
    }
}

/// Replays the workspace's dead events (or the one `event_id`) and audits it.
fn replay_dead(
    tx: &mut TenantTx<'_>,
    caller: &Caller,
    workspace: WorkspaceId,
    event_id: Option<&str>,
) -> Result<usize, AdminError> {
    let replayed = outbox::replay_dead(tx, event_id)?;
    let event = AuditEvent::new(AuditAction::OutboxReplayed, workspace)
        .with_attributes(vec![format!("events:{replayed}")]);
    events::audit(tx, caller, &[event])?;
    Ok(replayed)
}

/// The users and groups of an export, a page at a time until a short page.
fn export_all(tx: &mut TenantTx<'_>) -> Result<(Vec<User>, Vec<Group>), AdminError> {
    const PAGE: i64 = 1000;
    let full = |len: usize| len == usize::try_from(PAGE).unwrap_or(usize::MAX);
    let mut all_users = Vec::new();
    loop {
        let offset = i64::try_from(all_users.len()).unwrap_or(i64::MAX);
        let query = ListQuery {
            filter: None,
            sort: None,
            after: None,
            before: None,
            offset,
            limit: PAGE,
        };
        let page = users::list(tx, query)?;
        let more = full(page.users.len());
        all_users.extend(page.users);
        if !more {
            break;
        }
    }
    let mut all_groups = Vec::new();
    loop {
        let query = GroupQuery {
            filter: None,
            sort: None,
            after: None,
            before: None,
            offset: i64::try_from(all_groups.len()).unwrap_or(i64::MAX),
            limit: PAGE,
            with_members: true,
            // The export pages until a short page: it must never be shortened.
            member_budget: i64::MAX,
        };
        let page = groups::list(tx, query)?;
        let more = full(page.groups.len());
        all_groups.extend(page.groups);
        if !more {
            break;
        }
    }
    Ok((all_users, all_groups))
}

fn erase(
    tx: &mut TenantTx<'_>,
    caller: &Caller,
    workspace: &Workspace,
    id: UserId,
) -> Result<(), AdminError> {
    // The workspace row before the user's (see `user_writes::lock_workspace`).
    super::user_writes::lock_workspace::<AdminError>(tx)?;
    let before = users::find_any(tx, id)?.ok_or_else(|| NotFound::new(Resource::User, id))?;
    let left = users::erase(tx, id)?.ok_or_else(|| NotFound::new(Resource::User, id))?;
    outbox::discard_about(tx, &id.to_string())?;
    let mut quoted = vec![before.user_name.as_str()];
    quoted.extend(before.primary_email());
    quoted.extend(before.external_id.as_deref());
    provisioning_errors::discard_mentioning(tx, &quoted)?;
    let scrubbed = users::find_any(tx, id)?.ok_or_else(|| NotFound::new(Resource::User, id))?;
    let erased =
        [AuditEvent::new(AuditAction::UserErased, id).with_attributes(vec!["erased".into()])];
    let workspace = (workspace.id, &workspace.key);
    events::user_changed(tx, workspace, caller, &scrubbed, &erased)?;
    events::enqueue_left_groups(tx, workspace, &caller.actor, id, &left)?;
    Ok(())
}
