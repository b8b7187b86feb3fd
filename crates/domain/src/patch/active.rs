//! Whether a PATCH may make a user active, read off its operations before they are applied (a
//! change that makes a user active takes a seat, which callers may need to know before they
//! read the user).

use serde_json::Value;

use super::PatchRequest;
use super::password::names_core_attribute;
use crate::filter::PatchPath;

impl PatchRequest {
    /// Whether an operation names the core User's `active` (`path: "active"`, its URN-qualified
    /// forms, or such a key of a path-less value, as the engine reads them), whatever it would
    /// set: a `false` or a `remove` is answered `true` as well, since only the user's stored
    /// state tells whether the change reactivates it.
    pub fn may_set_active(&self) -> bool {
        self.operations
            .iter()
            .any(|operation| match (&operation.path, &operation.value) {
                (Some(path), _) => names_core_attribute(path, "active"),
                (None, Some(Value::Object(values))) => values.keys().any(|key| {
                    PatchPath::parse(key).is_ok_and(|path| names_core_attribute(&path, "active"))
                }),
                _ => false,
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::patch::PatchRequest;

    fn request(operations: serde_json::Value) -> PatchRequest {
        PatchRequest::parse(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        }))
        .unwrap()
    }

    #[test]
    fn every_shape_that_names_active_is_seen() {
        for operations in [
            json!([{"op": "replace", "path": "active", "value": true}]),
            json!([{"op": "Replace", "path": "ACTIVE", "value": "True"}]),
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": true}]),
            json!([{"op": "replace", "value": {"active": true}}]),
            json!([{"op": "replace", "value": {"displayName": "A", "Active": false}}]),
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:active": true}}]),
            json!([{"op": "replace", "path": "urn:scim:schemas:core:1.0:active", "value": true}]),
            json!([{"op": "replace", "value": {"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:Active": true}}]),
            json!([{"op": "remove", "path": "active"}]),
            json!([
                {"op": "replace", "path": "displayName", "value": "A"},
                {"op": "replace", "path": "active", "value": true}
            ]),
        ] {
            assert!(request(operations.clone()).may_set_active(), "{operations}");
        }
    }

    #[test]
    fn profile_changes_are_not_taken_for_activation() {
        for operations in [
            json!([{"op": "replace", "path": "displayName", "value": "A"}]),
            json!([{"op": "replace", "value": {"name": {"givenName": "A"}, "title": "active"}}]),
            json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@acme.com"}]),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "active"}]),
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"active": true}}}]),
        ] {
            assert!(
                !request(operations.clone()).may_set_active(),
                "{operations}"
            );
        }
    }
}
