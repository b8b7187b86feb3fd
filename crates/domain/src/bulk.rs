//! A Bulk request (RFC 7644 §3.7): its operations as the client wrote them, where they point,
//! and the `bulkId` references between them.
//!
//! A malformed request as a whole (not an object, no `Operations`) is refused at once; a
//! malformed operation is answered in its place, so that the others still run.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::DomainError;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// The most operations one request may carry (`bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;
/// How a value names a resource that an earlier operation of the request creates.
const REFERENCE: &str = "bulkId:";

#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many failed operations; `None` runs them all.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<Operation>,
}

/// One operation, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Upper-cased; checked when the operation runs.
    pub method: String,
    pub bulk_id: Option<String>,
    pub path: String,
    /// The ETag the resource must have (`If-Match` of a single request).
    pub version: Option<String>,
    pub data: Option<Value>,
}

/// The resource type or resource an operation's path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Users,
    Groups,
    User(String),
    Group(String),
}

fn member<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

fn syntax(detail: impl Into<String>) -> DomainError {
    DomainError::InvalidSyntax(detail.into())
}

impl BulkRequest {
    /// The number of operations in `body`, before anything else is read: a request over
    /// [`MAX_OPERATIONS`] is refused without parsing them.
    pub fn count(body: &Value) -> usize {
        body.as_object()
            .and_then(|object| member(object, "Operations"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    }

    pub fn parse(body: Value) -> Result<BulkRequest, DomainError> {
        let Value::Object(object) = body else {
            return Err(syntax("a BulkRequest must be a JSON object"));
        };
        let schemas = member(&object, "schemas").and_then(Value::as_array);
        let listed = schemas.is_some_and(|list| {
            list.iter().any(|urn| {
                urn.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST))
            })
        });
        if !listed {
            return Err(syntax(format!("'schemas' must list {BULK_REQUEST}")));
        }
        let fail_on_errors = match member(&object, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .filter(|n| *n >= 1)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| syntax("'failOnErrors' must be an integer of at least 1"))?,
            ),
        };
        let operations = member(&object, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("'Operations' must be an array"))?
            .iter()
            .map(Operation::read)
            .collect();
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }
}

impl Operation {
    /// An operation as written; what is missing or of the wrong type is left empty and refused
    /// when the operation runs.
    fn read(value: &Value) -> Operation {
        let empty = serde_json::Map::new();
        let object = value.as_object().unwrap_or(&empty);
        let text = |name: &str| {
            member(object, name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Operation {
            method: text("method").unwrap_or_default().to_ascii_uppercase(),
            bulk_id: text("bulkId"),
            path: text("path").unwrap_or_default(),
            version: text("version"),
            data: member(object, "data")
                .filter(|data| !data.is_null())
                .cloned(),
        }
    }

    /// What the path names; POST takes a resource type, the other methods a resource.
    pub fn target(&self) -> Result<Target, DomainError> {
        let path = self.path.strip_prefix('/').unwrap_or(&self.path);
        let (kind, id) = match path.split_once('/') {
            Some((kind, id)) => (kind, Some(id)),
            None => (path, None),
        };
        let invalid = || {
            DomainError::InvalidPath(format!(
                "'{}' names neither /Users, /Groups nor one of their resources",
                self.path
            ))
        };
        let target = match (kind, id) {
            (kind, None) if kind.eq_ignore_ascii_case("Users") => Target::Users,
            (kind, None) if kind.eq_ignore_ascii_case("Groups") => Target::Groups,
            (kind, Some(id)) if kind.eq_ignore_ascii_case("Users") && !id.is_empty() => {
                Target::User(id.to_owned())
            }
            (kind, Some(id)) if kind.eq_ignore_ascii_case("Groups") && !id.is_empty() => {
                Target::Group(id.to_owned())
            }
            _ => return Err(invalid()),
        };
        let collection = matches!(target, Target::Users | Target::Groups);
        match (self.method.as_str(), collection) {
            ("POST", true) | ("PUT" | "PATCH" | "DELETE", false) => Ok(target),
            ("POST", false) => Err(invalid_method("POST takes /Users or /Groups")),
            ("PUT" | "PATCH" | "DELETE", true) => Err(invalid_method(
                "PUT, PATCH and DELETE take the path of one resource",
            )),
            _ => Err(invalid_method(
                "the method must be POST, PUT, PATCH or DELETE",
            )),
        }
    }

    /// The bulkIds this operation's path and data refer to.
    pub fn references(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        if let Some(id) = reference(&self.path_id()) {
            found.insert(id.to_owned());
        }
        if let Some(data) = &self.data {
            collect(data, &mut found);
        }
        found
    }

    fn path_id(&self) -> String {
        self.path.rsplit('/').next().unwrap_or_default().to_owned()
    }

    /// Replaces each `bulkId:<id>` in the path and data with the id `created` maps it to. Every
    /// reference must be known (see [`Operation::references`]).
    pub fn resolve(&mut self, created: &HashMap<String, String>) {
        if let Some(bulk_id) = reference(&self.path_id())
            && let Some(id) = created.get(bulk_id)
            && let Some((head, _)) = self.path.rsplit_once('/')
        {
            self.path = format!("{head}/{id}");
        }
        if let Some(data) = &mut self.data {
            replace(data, created);
        }
    }
}

fn invalid_method(detail: &str) -> DomainError {
    DomainError::invalid_value(detail.to_owned())
}

fn reference(text: &str) -> Option<&str> {
    text.strip_prefix(REFERENCE).filter(|id| !id.is_empty())
}

fn collect(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = reference(text) {
                found.insert(id.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, found)),
        Value::Object(object) => object.values().for_each(|item| collect(item, found)),
        _ => {}
    }
}

fn replace(value: &mut Value, created: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = reference(text).and_then(|bulk_id| created.get(bulk_id)) {
                *text = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| replace(item, created)),
        Value::Object(object) => object.values_mut().for_each(|item| replace(item, created)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(operations: Value) -> BulkRequest {
        BulkRequest::parse(json!({"schemas": [BULK_REQUEST], "Operations": operations})).unwrap()
    }

    #[test]
    fn operations_name_their_targets_and_references() {
        let parsed = request(json!([
            {"method": "post", "path": "/Users", "bulkId": "u1", "data": {"userName": "a"}},
            {"method": "POST", "path": "/Groups", "bulkId": "g1",
             "data": {"displayName": "G", "members": [{"value": "bulkId:u1"}, {"value": "x"}]}},
            {"method": "PATCH", "path": "/Groups/bulkId:g1", "data": {"Operations": []}},
            {"method": "DELETE", "path": "/Users/123", "version": "W/\"2\""},
        ]));
        let ops = &parsed.operations;
        assert_eq!(ops[0].target().unwrap(), Target::Users);
        assert_eq!(ops[1].target().unwrap(), Target::Groups);
        assert_eq!(ops[1].references(), BTreeSet::from(["u1".to_owned()]));
        assert_eq!(ops[2].references(), BTreeSet::from(["g1".to_owned()]));
        assert_eq!(ops[3].target().unwrap(), Target::User("123".into()));
        assert_eq!(ops[3].version.as_deref(), Some("W/\"2\""));
        let created = HashMap::from([
            ("u1".to_owned(), "id-1".to_owned()),
            ("g1".to_owned(), "id-g".to_owned()),
        ]);
        let mut group = ops[1].clone();
        group.resolve(&created);
        assert_eq!(group.data.unwrap()["members"][0]["value"], "id-1");
        let mut patch = ops[2].clone();
        patch.resolve(&created);
        assert_eq!(patch.target().unwrap(), Target::Group("id-g".into()));
    }

    #[test]
    fn malformed_operations_fail_alone_and_malformed_requests_at_once() {
        let parsed = request(json!([
            {"method": "GET", "path": "/Users"},
            {"method": "POST", "path": "/Users/1"},
            {"method": "DELETE", "path": "/Groups"},
            {"method": "PUT", "path": "/Things/1"},
            "not an object",
        ]));
        for op in &parsed.operations {
            assert!(op.target().is_err(), "{op:?}");
        }
        for body in [
            json!([]),
            json!({"Operations": []}),
            json!({"schemas": [BULK_REQUEST]}),
            json!({"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": 0}),
            json!({"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": "x"}),
        ] {
            assert!(BulkRequest::parse(body.clone()).is_err(), "{body}");
        }
        assert_eq!(
            BulkRequest::count(&json!({"schemas": [BULK_REQUEST], "operations": [1, 2, 3]})),
            3
        );
    }
}
