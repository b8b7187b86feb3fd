//! The use cases of SCIM user provisioning. Each takes an authenticated caller and parsed domain
//! values, runs argon2 and the database on the blocking pool, writes the change and its audit
//! events in one transaction, and returns domain values.

use serde_json::Value;
use webwork_scim_domain::audit::user_change_events;
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{AuditEvent, Entitlements, Password, User, UserDraft, UserId};
use webwork_scim_persistence::users::{self, ListQuery, UserPage};
use webwork_scim_persistence::{StoreError, TenantTx, audit};
use webwork_scim_tenancy::hashing;

use crate::blocking::{run_argon2, run_blocking};
use crate::scim::auth::ScimTenant;
use crate::scim::list::ListParams;
use crate::{ApiError, AppState, lifecycle};

pub mod groups;

/// Why SCIM may not deactivate or delete the workspace owner.
const OWNER_PROTECTED: &str = "the workspace owner cannot be deactivated or deleted through SCIM; transfer ownership in WebWork first";

/// How often a PATCH is retried when the user changed between its read and its write.
const PATCH_ATTEMPTS: usize = 3;

fn taken(user_name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("userName '{user_name}' is already taken in this workspace")
}

/// The argon2id hash of `password`, computed off the async workers and before any transaction.
async fn hash_password(
    state: &AppState,
    password: Option<Password>,
) -> Result<Option<String>, ApiError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hash = run_argon2(&state.argon2_permits, move || {
        hashing::hash_secret(password.expose().as_bytes())
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(Some(hash))
}

/// Refuses to add an active user beyond the workspace's seats; inactive users do not count. The
/// workspace row is locked first so that concurrent creations cannot both take the last seat.
fn check_seat(
    tx: &mut TenantTx<'_>,
    entitlements: &Entitlements,
    except: Option<UserId>,
) -> Result<(), ApiError> {
    let Some(seats) = entitlements.seats else {
        return Ok(());
    };
    users::lock_workspace(tx)?;
    let used = users::count_active(tx, except)?;
    if used >= i64::from(seats) {
        return Err(ApiError::SeatLimit { used, seats });
    }
    Ok(())
}

/// Writes the audit events of a change to `user` and the lifecycle events for WebWork's app.
fn record_change(
    tx: &mut TenantTx<'_>,
    caller: &ScimTenant,
    user: &User,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    let actor = caller.actor();
    audit::record_all(tx, &actor, caller.request_id.as_deref(), events)?;
    let workspace = (caller.tenant.workspace_id, &caller.tenant.workspace_key);
    lifecycle::enqueue_user_events(tx, workspace, &actor, user, events)
}

/// A user's new state, checked and written with its audit and lifecycle events.
struct Write<'a> {
    caller: &'a ScimTenant,
    draft: &'a UserDraft,
    hash: Option<&'a str>,
}

impl Write<'_> {
    /// The audit events of a change to `user`, and the lifecycle events WebWork's app receives.
    fn record(
        &self,
        tx: &mut TenantTx<'_>,
        user: &User,
        events: &[AuditEvent],
    ) -> Result<(), StoreError> {
        record_change(tx, self.caller, user, events)
    }

    fn insert(&self, tx: &mut TenantTx<'_>) -> Result<User, ApiError> {
        if self.draft.active {
            check_seat(tx, &self.caller.tenant.entitlements, None)?;
        }
        let user = users::insert(tx, self.draft, self.hash)
            .map_err(|err| ApiError::from_store(err, taken(self.draft.user_name.as_str())))?;
        let mut attributes: Vec<String> = user.document.keys().cloned().collect();
        attributes.sort();
        let mut events = vec![AuditEvent::new("user.created", user.id).with_attributes(attributes)];
        if self.hash.is_some() {
            events.push(
                AuditEvent::new("user.password_set", user.id)
                    .with_attributes(vec!["password".into()]),
            );
        }
        self.record(tx, &user, &events)?;
        Ok(user)
    }

    /// Replaces `old` (as read, at its version when `guard` is set).
    fn replace(
        &self,
        tx: &mut TenantTx<'_>,
        old: &User,
        guard: bool,
    ) -> Result<Option<User>, ApiError> {
        if old.is_owner() && old.active && !self.draft.active {
            return Err(ApiError::Forbidden(OWNER_PROTECTED.into()));
        }
        if self.draft.active && !old.active {
            check_seat(tx, &self.caller.tenant.entitlements, Some(old.id))?;
        }
        let expected = guard.then_some(old.version);
        let Some(user) = users::replace(tx, old.id, self.draft, self.hash, expected).map_err(
            |err| match err {
                StoreError::Concurrent => ApiError::from(StoreError::Concurrent),
                other => ApiError::from_store(other, taken(self.draft.user_name.as_str())),
            },
        )?
        else {
            return Ok(None);
        };
        let events =
            user_change_events(user.id, &old.document, &user.document, self.hash.is_some());
        self.record(tx, &user, &events)?;
        Ok(Some(user))
    }
}

pub async fn list_users(
    state: &AppState,
    caller: &ScimTenant,
    params: ListParams,
) -> Result<UserPage, ApiError> {
    let store = state.store.clone();
    let workspace = caller.tenant.workspace_id;
    run_blocking(move || {
        store.read(workspace, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: params.filter.as_ref(),
                    offset: params.offset(),
                    limit: params.count,
                },
            )
        })
    })
    .await?
    .map_err(ApiError::from)
}

pub async fn get_user(state: &AppState, caller: &ScimTenant, id: UserId) -> Result<User, ApiError> {
    let store = state.store.clone();
    let workspace = caller.tenant.workspace_id;
    run_blocking(move || store.read(workspace, |tx| users::find(tx, id)))
        .await??
        .ok_or_else(|| ApiError::user_not_found(&id.to_string()))
}

pub async fn create_user(
    state: &AppState,
    caller: &ScimTenant,
    draft: UserDraft,
) -> Result<User, ApiError> {
    let hash = hash_password(state, draft.password.clone()).await?;
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        let write = Write {
            caller: &caller,
            draft: &draft,
            hash: hash.as_deref(),
        };
        store.write(caller.tenant.workspace_id, |tx| write.insert(tx))
    })
    .await?
}

/// PUT: replaces every attribute the body carries; a body without `password` keeps the stored
/// one, because IdPs PUT back what GET returned, and one without `active` keeps the stored state.
pub async fn replace_user(
    state: &AppState,
    caller: &ScimTenant,
    id: UserId,
    mut draft: UserDraft,
) -> Result<User, ApiError> {
    let hash = hash_password(state, draft.password.clone()).await?;
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        store.write(caller.tenant.workspace_id, |tx| {
            let old =
                users::find(tx, id)?.ok_or_else(|| ApiError::user_not_found(&id.to_string()))?;
            draft.keep_active(old.active);
            let write = Write {
                caller: &caller,
                draft: &draft,
                hash: hash.as_deref(),
            };
            write.replace(tx, &old, false)
        })
    })
    .await??
    .ok_or_else(|| ApiError::user_not_found(&id.to_string()))
}

/// PATCH: reads the user, applies the operations in memory, validates the result like a PUT
/// body, hashes a new password outside any transaction, then writes if the user has not changed
/// meanwhile (retrying otherwise). A PATCH that changes nothing writes nothing.
pub async fn patch_user(
    state: &AppState,
    caller: &ScimTenant,
    id: UserId,
    patch: PatchRequest,
) -> Result<User, ApiError> {
    for _ in 0..PATCH_ATTEMPTS {
        let current = get_user(state, caller, id).await?;
        // Applying operations costs time in proportion to the body: off the async workers.
        let (operations, mut document) = (patch.clone(), current.document.clone());
        let mut draft = run_blocking(move || {
            operations.apply(&mut document)?;
            UserDraft::from_scim(&Value::Object(document))
        })
        .await??;
        // Removing `active` is no reactivation: it keeps the stored state, as a PUT without it.
        draft.keep_active(current.active);
        if draft.password.is_none() && draft.document == current.document {
            return Ok(current);
        }
        let hash = hash_password(state, draft.password.clone()).await?;
        let store = state.store.clone();
        let owned = caller.clone();
        let written = run_blocking(move || {
            let write = Write {
                caller: &owned,
                draft: &draft,
                hash: hash.as_deref(),
            };
            store.write(owned.tenant.workspace_id, |tx| {
                write.replace(tx, &current, true)
            })
        })
        .await?;
        match written {
            Ok(Some(user)) => return Ok(user),
            Ok(None) => return Err(ApiError::user_not_found(&id.to_string())),
            Err(ApiError::Conflict(_)) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(StoreError::Concurrent.into())
}

pub async fn delete_user(
    state: &AppState,
    caller: &ScimTenant,
    id: UserId,
) -> Result<(), ApiError> {
    let store = state.store.clone();
    let caller = caller.clone();
    run_blocking(move || {
        store.write(caller.tenant.workspace_id, |tx| -> Result<(), ApiError> {
            let mut user =
                users::find(tx, id)?.ok_or_else(|| ApiError::user_not_found(&id.to_string()))?;
            if user.is_owner() {
                return Err(ApiError::Forbidden(OWNER_PROTECTED.into()));
            }
            let left = users::delete(tx, id)?.unwrap_or_default();
            user.active = false;
            user.session_version += 1;
            user.groups.clear();
            record_change(tx, &caller, &user, &[AuditEvent::new("user.deleted", id)])?;
            let workspace = (caller.tenant.workspace_id, &caller.tenant.workspace_key);
            lifecycle::enqueue_left_groups(tx, workspace, &caller.actor(), id, &left)?;
            Ok(())
        })
    })
    .await?
}
