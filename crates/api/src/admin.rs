//! Workspace and token administration, shared by the command line and the admin API. Blocking:
//! these run argon2 and the database on the calling thread; the HTTP layer calls them on the
//! blocking pool. Every change writes its audit event in the same transaction.

use std::time::Duration;

use time::OffsetDateTime;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{
    Actor, AuditEvent, DomainError, Entitlement, EntitlementOverrides, Entitlements, Group,
    GroupId, Member, Plan, TokenId, User, UserId, Workspace, WorkspaceId, WorkspaceKey,
    WorkspaceName,
};
use webwork_scim_persistence::audit::{self, AuditRecord, LogQuery};
use webwork_scim_persistence::groups::{self, GroupPage, GroupQuery};
use webwork_scim_persistence::provisioning_errors::{self, ErrorRecord};
use webwork_scim_persistence::tokens::{self, TokenSummary};
use webwork_scim_persistence::users::{self, ListQuery, UserPage};
use webwork_scim_persistence::workspaces::{self, WorkspaceUpdate};
use webwork_scim_persistence::{Access, Store, StoreError, TenantTx, unscoped};
use webwork_scim_tenancy::token::{IssuedToken, hex, random_bytes};
use webwork_scim_tenancy::{effective_entitlements, may_issue_scim_token, scim_refusal};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request is malformed or breaks a rule (exit code 2; 400 over HTTP).
    #[error("{0}")]
    Refused(String),
    /// The workspace's plan or settings do not allow it (exit code 2; 403 over HTTP).
    #[error("{0}")]
    NotAllowed(String),
    /// It would exceed a limit, such as the active tokens a plan allows (exit code 2; 409).
    #[error("{0}")]
    LimitReached(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<DomainError> for AdminError {
    fn from(err: DomainError) -> Self {
        AdminError::Refused(err.to_string())
    }
}

impl AdminError {
    /// The process exit code: 2 for a refused or unknown request, 1 for a failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Refused(_)
            | AdminError::NotAllowed(_)
            | AdminError::LimitReached(_)
            | AdminError::NotFound(_) => 2,
            AdminError::Store(_) | AdminError::Internal(_) => 1,
        }
    }
}

/// Who asks, for the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl Caller {
    pub fn operator() -> Caller {
        Caller {
            actor: Actor::Operator,
            request_id: None,
        }
    }

    fn audit(&self, tx: &mut TenantTx<'_>, event: AuditEvent) -> Result<(), StoreError> {
        audit::record(tx, &self.actor, self.request_id.as_deref(), &event)
    }
}

/// A token just issued: its listing and the clear text, shown once. `Debug` hides the clear text.
pub struct NewToken {
    pub summary: TokenSummary,
    pub plaintext: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

fn no_workspace(key: &str) -> AdminError {
    AdminError::NotFound(format!("no workspace with key '{key}'"))
}

pub fn create_workspace(
    store: &Store,
    caller: &Caller,
    name: &str,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, AdminError> {
    create_workspace_with_seats(store, caller, name, plan, sso_enabled, None)
}

/// Creates a workspace, with the seats billing sold it, and its audit event in one transaction.
pub fn create_workspace_with_seats(
    store: &Store,
    caller: &Caller,
    name: &str,
    plan: Plan,
    sso_enabled: bool,
    seats: Option<u32>,
) -> Result<Workspace, AdminError> {
    let name = WorkspaceName::parse(name)?;
    let suffix = hex(&random_bytes::<4>().map_err(|err| AdminError::Internal(err.to_string()))?);
    let key = WorkspaceKey::from_name_and_suffix(&name, &suffix)?;
    let id = WorkspaceId::generate();
    Ok(store.write(id, |tx| {
        let mut workspace = workspaces::create_in(tx, &key, &name, plan, sso_enabled)?;
        let mut attributes = vec!["plan".to_owned(), "sso_enabled".to_owned()];
        if seats.is_some() {
            let update = WorkspaceUpdate {
                seats: Some(seats),
                ..WorkspaceUpdate::default()
            };
            workspace = workspaces::update_in(tx, &key, update)?.ok_or(StoreError::Concurrent)?;
            attributes.push("seats".into());
        }
        caller.audit(
            tx,
            AuditEvent::new("workspace.created", workspace.id).with_attributes(attributes),
        )?;
        Ok::<_, StoreError>(workspace)
    })?)
}

pub fn find_workspace(store: &Store, key: &str) -> Result<Workspace, AdminError> {
    let key = WorkspaceKey::parse(key).map_err(|_| no_workspace(key))?;
    store
        .unscoped(Access::Read, |conn| workspaces::find_by_key(conn, &key))?
        .ok_or_else(|| no_workspace(key.as_str()))
}

pub fn list_workspaces(
    store: &Store,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Workspace>), AdminError> {
    Ok(store.unscoped(Access::Read, |conn| {
        unscoped::list_workspaces(conn, offset, limit)
    })?)
}

/// Applies `update` and records which settings changed.
pub fn update_workspace(
    store: &Store,
    caller: &Caller,
    key: &str,
    update: WorkspaceUpdate,
) -> Result<Workspace, AdminError> {
    let mut changed = Vec::new();
    for (set, name) in [
        (update.plan.is_some(), "plan"),
        (update.sso_enabled.is_some(), "sso_enabled"),
        (update.sso_enforced.is_some(), "sso_enforced"),
        (update.idp_issuer.is_some(), "idp_issuer"),
        (update.seats.is_some(), "seats"),
        (update.overrides.is_some(), "entitlement_overrides"),
    ] {
        if set {
            changed.push(name.to_owned());
        }
    }
    let current = find_workspace(store, key)?;
    let plan = update.plan.unwrap_or(current.plan);
    let enabled = update.sso_enabled.unwrap_or(current.sso_enabled);
    // Turning SSO off turns its enforcement off, unless the request insists on both.
    let enforced = update
        .sso_enforced
        .unwrap_or(current.sso_enforced && enabled);
    if update.sso_enabled == Some(true) && !current.sso_enabled {
        let entitlements = effective_entitlements(
            &Workspace {
                plan,
                ..current.clone()
            },
            OffsetDateTime::now_utc(),
        );
        if !entitlements.allows(Entitlement::Sso) {
            return Err(AdminError::NotAllowed(format!(
                "single sign-on requires the Premium plan; this workspace is on {plan}"
            )));
        }
    }
    if enforced && !enabled {
        return Err(AdminError::Refused(
            "SSO can be enforced only while it is enabled".into(),
        ));
    }
    Ok(store.write(current.id, |tx| {
        let workspace =
            workspaces::update_in(tx, &current.key, update)?.ok_or(StoreError::Concurrent)?;
        caller.audit(
            tx,
            AuditEvent::new("workspace.updated", workspace.id).with_attributes(changed),
        )?;
        Ok::<_, StoreError>(workspace)
    })?)
}

pub fn set_plan(
    store: &Store,
    caller: &Caller,
    key: &str,
    plan: Plan,
) -> Result<Workspace, AdminError> {
    update_workspace(
        store,
        caller,
        key,
        WorkspaceUpdate {
            plan: Some(plan),
            ..WorkspaceUpdate::default()
        },
    )
}

pub fn set_sso(
    store: &Store,
    caller: &Caller,
    key: &str,
    enabled: bool,
) -> Result<Workspace, AdminError> {
    update_workspace(
        store,
        caller,
        key,
        WorkspaceUpdate {
            sso_enabled: Some(enabled),
            ..WorkspaceUpdate::default()
        },
    )
}

pub fn set_overrides(
    store: &Store,
    caller: &Caller,
    key: &str,
    overrides: Option<EntitlementOverrides>,
    expires_at: Option<OffsetDateTime>,
) -> Result<Workspace, AdminError> {
    let update = WorkspaceUpdate {
        overrides: Some((overrides, expires_at)),
        ..WorkspaceUpdate::default()
    };
    update_workspace(store, caller, key, update)
}

/// Deletes a workspace: its tokens are revoked and its key stops resolving at once; its data is
/// purged after the grace period.
pub fn delete_workspace(
    store: &Store,
    caller: &Caller,
    key: &str,
) -> Result<Workspace, AdminError> {
    let workspace = find_workspace(store, key)?;
    store.write(workspace.id, |tx| {
        let revoked = tokens::revoke_all(tx)?;
        workspaces::mark_deleted_in(tx, &workspace.key)?;
        caller.audit(
            tx,
            AuditEvent::new("workspace.deleted", workspace.id)
                .with_attributes(vec![format!("tokens_revoked:{revoked}")]),
        )
    })?;
    Ok(workspace)
}

/// What the Settings > Single Sign-On page shows.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    pub workspace: Workspace,
    pub entitlements: Entitlements,
    /// Why SCIM is not allowed, when it is not.
    pub scim_refusal: Option<String>,
    pub seats_used: i64,
}

pub fn sso_settings(store: &Store, key: &str) -> Result<SsoSettings, AdminError> {
    sso_settings_of(store, find_workspace(store, key)?)
}

/// The page of a workspace already read (after a change to it, say).
pub fn sso_settings_of(store: &Store, workspace: Workspace) -> Result<SsoSettings, AdminError> {
    let entitlements = effective_entitlements(&workspace, OffsetDateTime::now_utc());
    let seats_used = store.read(workspace.id, |tx| users::count_active(tx, None))?;
    Ok(SsoSettings {
        scim_refusal: scim_refusal(&workspace, &entitlements),
        workspace,
        entitlements,
        seats_used,
    })
}

/// Issues a SCIM token. Refused unless the workspace's entitlements include provisioning, SSO is
/// on, and it holds fewer active tokens than it may.
pub fn issue_token(
    store: &Store,
    caller: &Caller,
    key: &str,
    label: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<NewToken, AdminError> {
    let workspace = find_workspace(store, key)?;
    let now = OffsetDateTime::now_utc();
    if expires_at.is_some_and(|at| at <= now) {
        return Err(AdminError::Refused(
            "the expiry must lie in the future".into(),
        ));
    }
    let label = label.trim();
    if label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(AdminError::Refused(
            "a token label has at most 100 printable characters".into(),
        ));
    }
    let entitlements = effective_entitlements(&workspace, now);
    if let Some(reason) = scim_refusal(&workspace, &entitlements) {
        return Err(AdminError::NotAllowed(reason));
    }
    let active = store.read(workspace.id, |tx| tokens::count_active(tx, now))?;
    may_issue_scim_token(&workspace, &entitlements, active)
        .map_err(|err| AdminError::LimitReached(err.to_string()))?;
    let issued = IssuedToken::generate().map_err(|err| AdminError::Internal(err.to_string()))?;
    let summary = store.write(workspace.id, |tx| {
        let summary = tokens::insert(
            tx,
            issued.prefix.as_str(),
            &issued.secret_hash,
            label,
            expires_at,
        )?;
        caller.audit(tx, AuditEvent::new("token.issued", summary.id))?;
        Ok::<_, StoreError>(summary)
    })?;
    Ok(NewToken {
        summary,
        plaintext: issued.plaintext,
    })
}

pub fn list_tokens(store: &Store, key: &str) -> Result<Vec<TokenSummary>, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.read(workspace.id, tokens::list)?)
}

fn token_id(key: &str, token_id: &str) -> Result<TokenId, AdminError> {
    token_id
        .parse()
        .map_err(|_| AdminError::NotFound(format!("no token '{token_id}' in workspace '{key}'")))
}

pub fn revoke_token(
    store: &Store,
    caller: &Caller,
    key: &str,
    token: &str,
) -> Result<TokenSummary, AdminError> {
    let workspace = find_workspace(store, key)?;
    let id = token_id(key, token)?;
    store
        .write(workspace.id, |tx| {
            let revoked = tokens::revoke(tx, id)?;
            if revoked.is_some() {
                caller.audit(tx, AuditEvent::new("token.revoked", id))?;
            }
            Ok::<_, StoreError>(revoked)
        })?
        .ok_or_else(|| AdminError::NotFound(format!("no token '{token}' in workspace '{key}'")))
}

/// Issues a new token and lets the old one work for `grace` more, so that the IdP can be given
/// the new one without an outage.
pub fn rotate_token(
    store: &Store,
    caller: &Caller,
    key: &str,
    token: &str,
    grace: Duration,
) -> Result<(NewToken, TokenSummary), AdminError> {
    let workspace = find_workspace(store, key)?;
    let id = token_id(key, token)?;
    let old = store
        .read(workspace.id, |tx| tokens::find(tx, id))?
        .filter(|t| {
            t.revoked_at.is_none() && t.expires_at.is_none_or(|at| at > OffsetDateTime::now_utc())
        })
        .ok_or_else(|| {
            AdminError::NotFound(format!("no active token '{token}' in workspace '{key}'"))
        })?;
    let now = OffsetDateTime::now_utc();
    let entitlements = effective_entitlements(&workspace, now);
    if let Some(reason) = scim_refusal(&workspace, &entitlements) {
        return Err(AdminError::NotAllowed(reason));
    }
    // The old token still counts until its grace ends, but the new one replaces it: one slot.
    let active = store.read(workspace.id, |tx| tokens::count_active(tx, now))?;
    may_issue_scim_token(&workspace, &entitlements, active.saturating_sub(1))
        .map_err(|err| AdminError::LimitReached(err.to_string()))?;
    let issued = IssuedToken::generate().map_err(|err| AdminError::Internal(err.to_string()))?;
    let until = now + grace;
    let (summary, old) = store.write(workspace.id, |tx| {
        let summary = tokens::insert(
            tx,
            issued.prefix.as_str(),
            &issued.secret_hash,
            &old.label,
            None,
        )?;
        let old = tokens::expire_by(tx, id, until)?.ok_or(StoreError::Concurrent)?;
        tokens::mark_replaced(tx, id, summary.id)?;
        caller.audit(
            tx,
            AuditEvent::new("token.rotated", id)
                .with_attributes(vec![format!("replaced_by:{}", summary.id)]),
        )?;
        Ok::<_, StoreError>((summary, old))
    })?;
    Ok((
        NewToken {
            summary,
            plaintext: issued.plaintext,
        },
        old,
    ))
}

pub fn audit_log(
    store: &Store,
    key: &str,
    query: LogQuery<'_>,
) -> Result<Vec<AuditRecord>, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.read(workspace.id, |tx| audit::list(tx, query))?)
}

pub fn error_log(
    store: &Store,
    key: &str,
    query: LogQuery<'_>,
) -> Result<Vec<ErrorRecord>, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.read(workspace.id, |tx| provisioning_errors::list(tx, query))?)
}

pub fn list_users(
    store: &Store,
    key: &str,
    offset: i64,
    limit: i64,
) -> Result<UserPage, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.read(workspace.id, |tx| {
        users::list(
            tx,
            ListQuery {
                filter: None,
                offset,
                limit,
            },
        )
    })?)
}

pub fn get_user(store: &Store, key: &str, id: &str) -> Result<User, AdminError> {
    let workspace = find_workspace(store, key)?;
    let missing = || AdminError::NotFound(format!("no user '{id}' in workspace '{key}'"));
    let user_id: UserId = id.parse().map_err(|_| missing())?;
    store
        .read(workspace.id, |tx| users::find(tx, user_id))?
        .ok_or_else(missing)
}

/// Every live user and every group (with its members) of the workspace, read page by page (by
/// id) inside one read transaction, so the export is one consistent view.
pub fn export(store: &Store, key: &str) -> Result<(Workspace, Vec<User>, Vec<Group>), AdminError> {
    const PAGE: i64 = 1000;
    let full = |len: usize| len == usize::try_from(PAGE).unwrap_or(usize::MAX);
    let workspace = find_workspace(store, key)?;
    let (users, groups) = store.read(workspace.id, |tx| {
        let mut all_users = Vec::new();
        loop {
            let page = users::list(
                tx,
                ListQuery {
                    filter: None,
                    offset: i64::try_from(all_users.len()).unwrap_or(i64::MAX),
                    limit: PAGE,
                },
            )?;
            let more = full(page.users.len());
            all_users.extend(page.users);
            if !more {
                break;
            }
        }
        let mut all_groups = Vec::new();
        loop {
            let page = groups::list(
                tx,
                GroupQuery {
                    filter: None,
                    offset: i64::try_from(all_groups.len()).unwrap_or(i64::MAX),
                    limit: PAGE,
                    with_members: true,
                    // The export pages until a short page: it must never be shortened.
                    member_budget: i64::MAX,
                },
            )?;
            let more = full(page.groups.len());
            all_groups.extend(page.groups);
            if !more {
                break;
            }
        }
        Ok::<_, StoreError>((all_users, all_groups))
    })?;
    Ok((workspace, users, groups))
}

/// A page of the workspace's groups (without members), optionally filtered.
pub fn list_groups(
    store: &Store,
    key: &str,
    filter: Option<&Filter>,
    offset: i64,
    limit: i64,
) -> Result<GroupPage, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.read(workspace.id, |tx| {
        groups::list(
            tx,
            GroupQuery {
                filter,
                offset,
                limit,
                with_members: false,
                member_budget: i64::MAX,
            },
        )
    })?)
}

fn group_id(key: &str, id: &str) -> Result<GroupId, AdminError> {
    id.parse()
        .map_err(|_| AdminError::NotFound(format!("no group '{id}' in workspace '{key}'")))
}

pub fn get_group(
    store: &Store,
    key: &str,
    id: &str,
    with_members: bool,
) -> Result<Group, AdminError> {
    let workspace = find_workspace(store, key)?;
    let group_id = group_id(key, id)?;
    store
        .read(workspace.id, |tx| groups::find(tx, group_id, with_members))?
        .ok_or_else(|| AdminError::NotFound(format!("no group '{id}' in workspace '{key}'")))
}

/// A page of a group's members and how many it has.
pub fn group_members(
    store: &Store,
    key: &str,
    id: &str,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Member>), AdminError> {
    let workspace = find_workspace(store, key)?;
    let group_id = group_id(key, id)?;
    store.read(workspace.id, |tx| {
        if groups::find(tx, group_id, false)?.is_none() {
            return Err(AdminError::NotFound(format!(
                "no group '{id}' in workspace '{key}'"
            )));
        }
        Ok(groups::members_page(tx, group_id, offset, limit)?)
    })
}

/// Erases one user's personal data on request: the row stays as a scrubbed tombstone, events
/// still waiting to be delivered about the user are discarded (they carry the data), and WebWork's
/// app is told with `user.erased`, so that it can scrub its own copy.
pub fn erase_user(store: &Store, caller: &Caller, key: &str, id: &str) -> Result<(), AdminError> {
    let workspace = find_workspace(store, key)?;
    let missing = || AdminError::NotFound(format!("no user '{id}' in workspace '{key}'"));
    let user_id: UserId = id.parse().map_err(|_| missing())?;
    let erased = store.write(workspace.id, |tx| {
        let Some(left) = users::erase(tx, user_id)? else {
            return Ok::<_, StoreError>(false);
        };
        webwork_scim_persistence::outbox::discard_pending(tx, &user_id.to_string())?;
        let scrubbed = users::find_any(tx, user_id)?.ok_or(StoreError::Concurrent)?;
        let events =
            [AuditEvent::new("user.erased", user_id).with_attributes(vec!["erased".into()])];
        caller.audit(tx, events[0].clone())?;
        crate::lifecycle::enqueue_user_events(
            tx,
            (workspace.id, &workspace.key),
            &caller.actor,
            &scrubbed,
            &events,
        )?;
        crate::lifecycle::enqueue_left_groups(
            tx,
            (workspace.id, &workspace.key),
            &caller.actor,
            user_id,
            &left,
        )?;
        Ok(true)
    })?;
    if erased { Ok(()) } else { Err(missing()) }
}

/// Gives dead lifecycle events of the workspace (or the one `event_id`) a fresh start.
pub fn replay_outbox(
    store: &Store,
    caller: &Caller,
    key: &str,
    event_id: Option<&str>,
) -> Result<usize, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.write(workspace.id, |tx| {
        let replayed = webwork_scim_persistence::outbox::replay_dead(tx, event_id)?;
        caller.audit(
            tx,
            AuditEvent::new("outbox.replayed", workspace.id)
                .with_attributes(vec![format!("events:{replayed}")]),
        )?;
        Ok::<_, StoreError>(replayed)
    })?)
}
