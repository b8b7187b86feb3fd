//! Lifecycle events for WebWork's app: what the outbox carries for each change to a user.

use serde_json::{Value, json};
use webwork_scim_domain::{Actor, AuditEvent, User, WorkspaceId, WorkspaceKey};
use webwork_scim_persistence::{StoreError, TenantTx, outbox};

/// The user as WebWork's app sees it in events and the internal API.
pub fn user_view(user: &User) -> Value {
    let email = user
        .document
        .get("emails")
        .and_then(Value::as_array)
        .and_then(|emails| {
            emails
                .iter()
                .find(|e| e.get("primary") == Some(&Value::Bool(true)))
                .or_else(|| emails.first())
        })
        .and_then(|email| email.get("value"))
        .cloned()
        .unwrap_or(Value::Null);
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

/// Writes one outbox event per user action among `events` (`user.created`,
/// `user.deactivated`, …), with the user's state after the change.
pub fn enqueue_user_events(
    tx: &mut TenantTx<'_>,
    workspace: (WorkspaceId, &WorkspaceKey),
    actor: &Actor,
    user: &User,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    for event in events.iter().filter(|e| e.action.starts_with("user.")) {
        let payload = json!({
            "workspace": {"id": workspace.0.to_string(), "key": workspace.1.as_str()},
            "user": user_view(user),
            "changed_attributes": event.attributes,
            "actor": actor.to_string(),
        });
        outbox::enqueue(tx, &user.id.to_string(), event.action, &payload)?;
    }
    Ok(())
}
