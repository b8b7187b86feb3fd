//! The part every change to a user shares, inside its transaction: the rules (the owner, the
//! seats, the session policy), the write, and the audit and lifecycle events.

use time::OffsetDateTime;
use webwork_scim_domain::audit::user_change_events;
use webwork_scim_domain::{
    AuditAction, AuditEvent, DomainError, Entitlements, Refusal, Tenant, User, UserDraft, UserId,
    Workspace,
};
use webwork_scim_persistence::users::{self, Replacement};
use webwork_scim_persistence::{TenantTx, workspaces};
use webwork_scim_tenancy::effective_entitlements;

use super::errors::uniqueness;
use super::events::{self, WorkspaceRef};
use super::{Caller, NotFound, ProvisioningError, Resource};

/// The workspace's active users (other than `except`) and its entitlements when its seats are
/// limited, else `None`; the workspace row is then locked until the transaction ends, so that
/// two changes cannot both take the last seat. `locked` is the row as this transaction locked
/// it already, if it did (see [`lock_workspace`]). Without it, the row is locked here: after
/// the user's lock where the tenant cache did not yet know of the limit (up to its time to
/// live after seats are first set), the order that can deadlock with a deletion (answered
/// 503, to be retried).
pub(crate) fn seats_in_use<E>(
    tx: &mut TenantTx<'_>,
    except: Option<UserId>,
    locked: Option<&Workspace>,
) -> Result<Option<(i64, Entitlements)>, E>
where
    E: From<webwork_scim_persistence::StoreError> + From<NotFound>,
{
    let now = OffsetDateTime::now_utc();
    let entitlements = match locked {
        Some(workspace) => effective_entitlements(workspace, now),
        None => {
            let id = tx.workspace();
            let read =
                workspaces::current(tx)?.ok_or_else(|| NotFound::new(Resource::Workspace, id))?;
            if effective_entitlements(&read, now).seats.is_none() {
                return Ok(None);
            }
            effective_entitlements(&lock_workspace::<E>(tx)?, now)
        }
    };
    if entitlements.seats.is_none() {
        return Ok(None);
    }
    Ok(Some((users::count_active(tx, except)?, entitlements)))
}

/// Whether one more active user fits in the workspace's seats.
fn admit_active_user(
    tx: &mut TenantTx<'_>,
    except: Option<UserId>,
    locked: Option<&Workspace>,
) -> Result<(), ProvisioningError> {
    if let Some((used, entitlements)) = seats_in_use::<ProvisioningError>(tx, except, locked)? {
        entitlements.admit_active_user(used)?;
    }
    Ok(())
}

/// How many more users the workspace may hold under `max`, and the workspace row, locked until
/// the transaction ends, so that two creations cannot both take the last place.
pub(crate) fn room_for_users<E>(tx: &mut TenantTx<'_>, max: u32) -> Result<(i64, Workspace), E>
where
    E: From<webwork_scim_persistence::StoreError> + From<NotFound>,
{
    let id = tx.workspace();
    let (workspace, live) = workspaces::lock_counting_users(tx)?
        .ok_or_else(|| NotFound::new(Resource::Workspace, id))?;
    Ok((i64::from(max) - live, workspace))
}

/// Locks the workspace row until the transaction ends, and reads it. Every change that adds or
/// removes a user takes it before any user row: the database updates the workspace's count of
/// users with it.
pub(crate) fn lock_workspace<E>(tx: &mut TenantTx<'_>) -> Result<Workspace, E>
where
    E: From<webwork_scim_persistence::StoreError> + From<NotFound>,
{
    let id = tx.workspace();
    Ok(workspaces::lock(tx)?.ok_or_else(|| NotFound::new(Resource::Workspace, id))?)
}

/// The user `id`, locked for a change, and the workspace row when the change takes a seat
/// (`takes_seat`, asked of the user as locked) in a workspace whose seats are limited: that row
/// is then locked before the user, in the order creations, deletions and member links take the
/// two (the other order could deadlock with them on PostgreSQL), and the seats are counted
/// under it. Whether a change takes a seat depends on the stored user, so with limited seats
/// the user is locked in a savepoint first; a change that takes a seat gives that lock back and
/// takes both in order. Other changes leave the row alone, so that changes of different users
/// do not wait for each other.
pub(crate) fn lock_for_change(
    tx: &mut TenantTx<'_>,
    tenant: &Tenant,
    id: UserId,
    takes_seat: impl FnOnce(&User) -> bool,
) -> Result<(User, Option<Workspace>), ProvisioningError> {
    let not_found = || NotFound::new(Resource::User, id);
    if tenant.entitlements.seats.is_none() {
        return Ok((users::lock(tx, id)?.ok_or_else(not_found)?, None));
    }
    let first = tx.savepoint(|tx| {
        let user = users::lock(tx, id)?.ok_or_else(not_found)?;
        if takes_seat(&user) {
            return Err(FirstLock::TakesSeat);
        }
        Ok(user)
    });
    match first {
        Ok(user) => Ok((user, None)),
        Err(FirstLock::Failed(err)) => Err(err),
        Err(FirstLock::TakesSeat) => {
            let workspace = lock_workspace::<ProvisioningError>(tx)?;
            let user = users::lock(tx, id)?.ok_or_else(not_found)?;
            Ok((user, Some(workspace)))
        }
    }
}

/// Why the savepoint of [`lock_for_change`] was given back.
enum FirstLock {
    TakesSeat,
    Failed(ProvisioningError),
}

impl<E: Into<ProvisioningError>> From<E> for FirstLock {
    fn from(err: E) -> FirstLock {
        FirstLock::Failed(err.into())
    }
}

fn taken(draft: &UserDraft) -> impl FnOnce() -> String + '_ {
    move || {
        format!(
            "userName '{}' is already taken in this workspace",
            draft.user_name.as_str()
        )
    }
}

/// What a create found: a new user, or the one an earlier attempt of the same create made (an
/// identity provider retries when an answer was lost), with its password hash for the caller to
/// compare with the retried password.
#[derive(Debug)]
pub(crate) enum Created {
    New(User),
    Retry {
        user: User,
        password_hash: Option<String>,
    },
}

/// The user an earlier attempt of this create made, if the live user of `draft`'s userName is
/// one; a live user of that name that is not is a uniqueness conflict.
pub(crate) fn earlier_attempt(
    tx: &mut TenantTx<'_>,
    draft: &UserDraft,
) -> Result<Option<Created>, ProvisioningError> {
    let Some(user) = users::find_by_user_name(tx, &draft.user_name)? else {
        return Ok(None);
    };
    if !user.is_retried_by(draft) {
        return Err(name_taken(draft));
    }
    let password_hash = users::password_hash(tx, user.id)?;
    Ok(Some(Created::Retry {
        user,
        password_hash,
    }))
}

/// The conflict of a create whose userName a live user of the workspace holds.
pub(crate) fn name_taken(draft: &UserDraft) -> ProvisioningError {
    DomainError::Uniqueness(taken(draft)()).into()
}

/// Stores a new user, with a password already hashed, after the checks of the workspace's room
/// (`max_users`) and seats.
pub(crate) fn insert(
    tx: &mut TenantTx<'_>,
    workspace: WorkspaceRef<'_>,
    caller: &Caller,
    draft: &UserDraft,
    password_hash: Option<&str>,
    max_users: u32,
) -> Result<User, ProvisioningError> {
    let (room, locked) = room_for_users::<ProvisioningError>(tx, max_users)?;
    if room <= 0 {
        return Err(Refusal::UserLimit { max: max_users }.into());
    }
    if draft.active {
        admit_active_user(tx, None, Some(&locked))?;
    }
    let user = users::insert(tx, draft, password_hash)
        .map_err(|err| uniqueness::<ProvisioningError>(err, taken(draft)))?;
    let mut attributes: Vec<String> = user.document.keys().cloned().collect();
    attributes.sort();
    let mut changes =
        vec![AuditEvent::new(AuditAction::UserCreated, user.id).with_attributes(attributes)];
    if password_hash.is_some() {
        changes.push(
            AuditEvent::new(AuditAction::UserPasswordSet, user.id)
                .with_attributes(vec!["password".into()]),
        );
    }
    events::user_changed(tx, workspace, caller, &user, &changes)?;
    Ok(user)
}

/// Replaces `current` (locked in this transaction) with `draft`. A draft equal to what is
/// stored, without a new password, writes nothing. `locked` is the workspace row if the
/// transaction locked it before the user ([`lock_for_change`]).
pub(crate) fn replace(
    tx: &mut TenantTx<'_>,
    workspace: WorkspaceRef<'_>,
    caller: &Caller,
    current: User,
    draft: &UserDraft,
    password_hash: Option<&str>,
    locked: Option<&Workspace>,
) -> Result<User, ProvisioningError> {
    if password_hash.is_none() && draft.document == current.document {
        return Ok(current);
    }
    current.check_activity(draft.active)?;
    current.check_password_change(password_hash.is_some())?;
    if current.takes_seat(draft.active) {
        admit_active_user(tx, Some(current.id), locked)?;
    }
    let replacement = Replacement {
        draft,
        password_hash,
        session_version: current.sessions_after(draft.active, password_hash.is_some()),
    };
    let user = users::replace(tx, &current, replacement)
        .map_err(|err| uniqueness::<ProvisioningError>(err, taken(draft)))?;
    let changes = user_change_events(
        user.id,
        &current.document,
        &user.document,
        password_hash.is_some(),
    );
    events::user_changed(tx, workspace, caller, &user, &changes)?;
    Ok(user)
}

/// Deletes `user` (locked in this transaction): never the owner; its groups hear that it left.
pub(crate) fn delete(
    tx: &mut TenantTx<'_>,
    workspace: WorkspaceRef<'_>,
    caller: &Caller,
    mut user: User,
) -> Result<(), ProvisioningError> {
    user.check_deletion()?;
    let left = users::delete(tx, &user)?;
    user.active = false;
    user.session_version = user.sessions_after_removal();
    user.groups.clear();
    let deleted = [AuditEvent::new(AuditAction::UserDeleted, user.id)];
    events::user_changed(tx, workspace, caller, &user, &deleted)?;
    events::enqueue_left_groups(tx, workspace, &caller.actor, user.id, &left)?;
    Ok(())
}
