//! Audit events: who changed what, by action and attribute names — never values.

use std::fmt;

use serde_json::{Map, Value};

use crate::TokenId;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An identity provider, through a SCIM API token.
    Token(TokenId),
    /// A person or service of WebWork, through the admin API (the JWT subject).
    Subject(String),
    /// An operator at the command line.
    Operator,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Token(id) => write!(f, "token:{id}"),
            Actor::Subject(subject) => write!(f, "jwt:{subject}"),
            Actor::Operator => f.write_str("cli"),
        }
    }
}

/// What an audited change did. Stored and shown as its dotted name (`user.deactivated`); the
/// `user.` and `group.` actions are also the lifecycle events WebWork's app receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    UserPasswordSet,
    UserPasswordRefused,
    UserDeleted,
    UserErased,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    WorkspaceCreated,
    WorkspaceUpdated,
    WorkspaceDeleted,
    TokenIssued,
    TokenRevoked,
    TokenRotated,
    OutboxReplayed,
}

impl AuditAction {
    pub const ALL: [AuditAction; 18] = [
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::UserDeactivated,
        AuditAction::UserReactivated,
        AuditAction::UserPasswordSet,
        AuditAction::UserPasswordRefused,
        AuditAction::UserDeleted,
        AuditAction::UserErased,
        AuditAction::GroupCreated,
        AuditAction::GroupUpdated,
        AuditAction::GroupDeleted,
        AuditAction::WorkspaceCreated,
        AuditAction::WorkspaceUpdated,
        AuditAction::WorkspaceDeleted,
        AuditAction::TokenIssued,
        AuditAction::TokenRevoked,
        AuditAction::TokenRotated,
        AuditAction::OutboxReplayed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreated => "user.created",
            AuditAction::UserUpdated => "user.updated",
            AuditAction::UserDeactivated => "user.deactivated",
            AuditAction::UserReactivated => "user.reactivated",
            AuditAction::UserPasswordSet => "user.password_set",
            AuditAction::UserPasswordRefused => "user.password_refused",
            AuditAction::UserDeleted => "user.deleted",
            AuditAction::UserErased => "user.erased",
            AuditAction::GroupCreated => "group.created",
            AuditAction::GroupUpdated => "group.updated",
            AuditAction::GroupDeleted => "group.deleted",
            AuditAction::WorkspaceCreated => "workspace.created",
            AuditAction::WorkspaceUpdated => "workspace.updated",
            AuditAction::WorkspaceDeleted => "workspace.deleted",
            AuditAction::TokenIssued => "token.issued",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::TokenRotated => "token.rotated",
            AuditAction::OutboxReplayed => "outbox.replayed",
        }
    }

    /// Whether WebWork's app hears of it as a user's lifecycle event: a refused change is
    /// audited, but nothing changed.
    pub fn is_user_event(self) -> bool {
        self.as_str().starts_with("user.") && self != AuditAction::UserPasswordRefused
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuditAction {
    type Err = crate::DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.as_str() == s)
            .ok_or_else(|| crate::DomainError::invalid_value(format!("unknown action '{s}'")))
    }
}

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub action: AuditAction,
    pub target_id: Option<String>,
    /// Names of the attributes that changed.
    pub attributes: Vec<String>,
}

impl AuditEvent {
    pub fn new(action: AuditAction, target_id: impl ToString) -> AuditEvent {
        AuditEvent {
            action,
            target_id: Some(target_id.to_string()),
            attributes: Vec::new(),
        }
    }

    pub fn with_attributes(mut self, attributes: Vec<String>) -> AuditEvent {
        self.attributes = attributes;
        self
    }
}

/// The names of the attributes that differ between two User documents. Attributes of an
/// extension are named `urn:…:attribute`.
pub fn changed_attributes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let keys = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)));
    for key in keys {
        let (before, after) = (old.get(key), new.get(key));
        if before == after {
            continue;
        }
        match (before, after, key.starts_with("urn:")) {
            (Some(Value::Object(a)), Some(Value::Object(b)), true) => {
                names.extend(
                    changed_attributes(a, b)
                        .into_iter()
                        .map(|sub| format!("{key}:{sub}")),
                );
            }
            _ => names.push(key.clone()),
        }
    }
    names.sort();
    names
}

/// The audit events of a change to a user: `user.deactivated` or `user.reactivated` when
/// `active` flipped, `user.updated` for other attributes, `user.password_set` for a new password.
pub fn user_change_events(
    user_id: impl ToString,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    password_set: bool,
) -> Vec<AuditEvent> {
    let id = user_id.to_string();
    let mut changed = changed_attributes(old, new);
    let mut events = Vec::new();
    let was_active = old.get("active") != Some(&Value::Bool(false));
    let is_active = new.get("active") != Some(&Value::Bool(false));
    if was_active != is_active {
        changed.retain(|name| name != "active");
        let action = if is_active {
            AuditAction::UserReactivated
        } else {
            AuditAction::UserDeactivated
        };
        events.push(AuditEvent::new(action, &id).with_attributes(vec!["active".into()]));
    }
    if !changed.is_empty() {
        events.push(AuditEvent::new(AuditAction::UserUpdated, &id).with_attributes(changed));
    }
    if password_set {
        events.push(
            AuditEvent::new(AuditAction::UserPasswordSet, &id)
                .with_attributes(vec!["password".into()]),
        );
    }
    events
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn changed_attribute_names_cover_added_removed_and_extension_fields() {
        let old = doc(
            json!({"userName": "a", "title": "x", "urn:ext": {"department": "A", "costCenter": "1"}}),
        );
        let new = doc(
            json!({"userName": "a", "nickName": "n", "urn:ext": {"department": "B", "costCenter": "1"}}),
        );
        assert_eq!(
            changed_attributes(&old, &new),
            vec!["nickName", "title", "urn:ext:department"]
        );
        assert!(changed_attributes(&old, &old).is_empty());
    }

    #[test]
    fn deactivation_reactivation_and_password_are_their_own_events() {
        let active = doc(json!({"userName": "a", "active": true}));
        let inactive = doc(json!({"userName": "a", "active": false, "title": "t"}));
        let events = user_change_events("u1", &active, &inactive, true);
        let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            vec!["user.deactivated", "user.updated", "user.password_set"]
        );
        assert_eq!(events[1].attributes, vec!["title"]);
        let back = user_change_events("u1", &inactive, &active, false);
        assert_eq!(back[0].action, AuditAction::UserReactivated);
        assert!(user_change_events("u1", &active, &active, false).is_empty());
    }

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>().unwrap(), action);
        }
        assert!(AuditAction::UserErased.is_user_event());
        assert!(!AuditAction::GroupCreated.is_user_event());
        assert!("user.exploded".parse::<AuditAction>().is_err());
    }

    #[test]
    fn actors_render_with_their_kind() {
        let id = TokenId::generate();
        assert_eq!(Actor::Token(id).to_string(), format!("token:{id}"));
        assert_eq!(Actor::Subject("billing".into()).to_string(), "jwt:billing");
        assert_eq!(Actor::Operator.to_string(), "cli");
    }
}
