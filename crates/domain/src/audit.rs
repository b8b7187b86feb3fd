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

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub action: &'static str,
    pub target_id: Option<String>,
    /// Names of the attributes that changed.
    pub attributes: Vec<String>,
}

impl AuditEvent {
    pub fn new(action: &'static str, target_id: impl ToString) -> AuditEvent {
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
            "user.reactivated"
        } else {
            "user.deactivated"
        };
        events.push(AuditEvent::new(action, &id).with_attributes(vec!["active".into()]));
    }
    if !changed.is_empty() {
        events.push(AuditEvent::new("user.updated", &id).with_attributes(changed));
    }
    if password_set {
        events.push(
            AuditEvent::new("user.password_set", &id).with_attributes(vec!["password".into()]),
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
        let actions: Vec<_> = events.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            vec!["user.deactivated", "user.updated", "user.password_set"]
        );
        assert_eq!(events[1].attributes, vec!["title"]);
        let back = user_change_events("u1", &inactive, &active, false);
        assert_eq!(back[0].action, "user.reactivated");
        assert!(user_change_events("u1", &active, &active, false).is_empty());
    }

    #[test]
    fn actors_render_with_their_kind() {
        let id = TokenId::generate();
        assert_eq!(Actor::Token(id).to_string(), format!("token:{id}"));
        assert_eq!(Actor::Subject("billing".into()).to_string(), "jwt:billing");
        assert_eq!(Actor::Operator.to_string(), "cli");
    }
}
