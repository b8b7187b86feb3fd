//! What a change leaves behind in its own transaction: its audit events, and the lifecycle events
//! WebWork's app receives through the outbox for each change to a user or group.

use serde_json::{Value, json};
use webwork_scim_domain::{
    Actor, AuditAction, AuditEvent, Group, GroupId, User, UserId, WorkspaceId, WorkspaceKey,
};
use webwork_scim_persistence::groups::{self, GroupWrite};
use webwork_scim_persistence::{StoreError, TenantTx, audit, outbox};

use super::Caller;

/// The workspace a change belongs to, as events name it.
pub type WorkspaceRef<'a> = (WorkspaceId, &'a WorkspaceKey);

/// Writes `events` to the audit log.
pub fn audit(
    tx: &mut TenantTx<'_>,
    caller: &Caller,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    audit::record_all(tx, &caller.actor, caller.request_id.as_deref(), events)
}

/// The audit events of a change to `user` and, for each user action among them
/// (`user.created`, `user.deactivated`, …), the lifecycle event WebWork's app receives, with the
/// user's state after the change, written together with its audit event.
pub fn user_changed(
    tx: &mut TenantTx<'_>,
    workspace: WorkspaceRef<'_>,
    caller: &Caller,
    user: &User,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    for event in events {
        if !event.action.is_user_event() {
            audit(tx, caller, std::slice::from_ref(event))?;
            continue;
        }
        let payload = payload(
            workspace,
            &caller.actor,
            ("user", user_view(user)),
            &event.attributes,
        );
        let by = (&caller.actor, caller.request_id.as_deref());
        outbox::enqueue_with_audit(tx, by, event, &user.id.to_string(), &payload)?;
    }
    Ok(())
}

/// The audit event and lifecycle events of a group write.
pub fn group_written(
    tx: &mut TenantTx<'_>,
    workspace: WorkspaceRef<'_>,
    caller: &Caller,
    write: &GroupWrite,
    created: bool,
) -> Result<(), StoreError> {
    let action = if created {
        AuditAction::GroupCreated
    } else {
        AuditAction::GroupUpdated
    };
    let event = AuditEvent::new(action, write.group.id).with_attributes(write.attributes.clone());
    audit(tx, caller, &[event])?;
    enqueue_group_events(tx, workspace, &caller.actor, write, created)
}

/// The user as WebWork's app sees it in events and the internal API.
pub fn user_view(user: &User) -> Value {
    let email = user.primary_email();
    json!({
        "id": user.id.to_string(),
        "userName": user.user_name,
        "externalId": user.external_id,
        "displayName": user.display_name,
        "email": email,
        "active": user.active,
        "roles": user.app_roles,
        "session_version": user.session_version,
        // Increases with every change: an event whose version is not above the last one applied
        // for this user is stale.
        "version": user.version,
    })
}

/// The payload every event shares: the workspace, the subject (`"user"` or `"group"`) as it is
/// after the change, the names of the changed attributes, and who changed it.
fn payload(
    workspace: (WorkspaceId, &WorkspaceKey),
    actor: &Actor,
    subject: (&str, Value),
    changed: &[String],
) -> Value {
    let mut payload = json!({
        "workspace": {"id": workspace.0.to_string(), "key": workspace.1.as_str()},
        "changed_attributes": changed,
        "actor": actor.to_string(),
    });
    payload[subject.0] = subject.1;
    payload
}

/// Member ids per event: a full push of a big group becomes several events, not one huge body.
const MEMBERS_PER_EVENT: usize = 1000;

/// The group as WebWork's app sees it in events and the internal API.
pub fn group_view(group: &Group) -> Value {
    json!({
        "id": group.id.to_string(),
        "displayName": group.display_name,
        "externalId": group.external_id,
        "version": group.version,
    })
}

/// Writes the outbox events of a group write: `group.created` or `group.updated` (when its own
/// attributes changed), then `group.members_removed` and `group.members_added` listing user ids.
/// Events of one group are delivered in order.
fn enqueue_group_events(
    tx: &mut TenantTx<'_>,
    workspace: (WorkspaceId, &WorkspaceKey),
    actor: &Actor,
    write: &GroupWrite,
    created: bool,
) -> Result<(), StoreError> {
    let aggregate = write.group.id.to_string();
    let base = |changed: &[String]| {
        payload(
            workspace,
            actor,
            ("group", group_view(&write.group)),
            changed,
        )
    };
    let own: Vec<String> = write
        .attributes
        .iter()
        .filter(|name| *name != "members")
        .cloned()
        .collect();
    if created {
        outbox::enqueue(tx, &aggregate, "group.created", &base(&own))?;
    } else if !own.is_empty() {
        outbox::enqueue(tx, &aggregate, "group.updated", &base(&own))?;
    }
    for (event_type, ids) in [
        ("group.members_removed", &write.removed),
        ("group.members_added", &write.added),
    ] {
        for chunk in ids.chunks(MEMBERS_PER_EVENT) {
            let mut payload = base(&["members".to_owned()]);
            payload["members"] = chunk.iter().map(|id| Value::from(id.to_string())).collect();
            outbox::enqueue(tx, &aggregate, event_type, &payload)?;
        }
    }
    Ok(())
}

/// Writes `group.deleted`; the group's memberships are gone with it.
pub fn enqueue_group_deleted(
    tx: &mut TenantTx<'_>,
    workspace: (WorkspaceId, &WorkspaceKey),
    actor: &Actor,
    group: &Group,
) -> Result<(), StoreError> {
    let payload = payload(workspace, actor, ("group", group_view(group)), &[]);
    outbox::enqueue(tx, &group.id.to_string(), "group.deleted", &payload)?;
    Ok(())
}

/// Writes `group.members_removed` naming `user` for every group it left by being deleted or
/// erased, in each group's own order, so that an add still waiting there is followed by its undo.
pub fn enqueue_left_groups(
    tx: &mut TenantTx<'_>,
    workspace: (WorkspaceId, &WorkspaceKey),
    actor: &Actor,
    user: UserId,
    left: &[GroupId],
) -> Result<(), StoreError> {
    for id in left {
        let Some(group) = groups::find(tx, *id, false)? else {
            continue;
        };
        let write = GroupWrite {
            group,
            attributes: vec!["members".to_owned()],
            added: Vec::new(),
            removed: vec![user],
        };
        enqueue_group_events(tx, workspace, actor, &write, false)?;
    }
    Ok(())
}
