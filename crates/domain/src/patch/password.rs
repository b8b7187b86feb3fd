//! The password a PATCH sets, read off its operations before the user is: so that it can be
//! hashed before the transaction that applies them.

use serde_json::Value;

use super::{Op, PatchRequest};
use crate::DomainError;
use crate::filter::PatchPath;
use crate::user::Password;

impl PatchRequest {
    /// The password the operations set, in the shapes IdPs send it (`path: "password"`, a
    /// URN-qualified path, or a `password` key of a path-less value); the last one wins and a
    /// `remove` of it sets none. Known before the user is read, so that it can be hashed before
    /// the transaction that applies the operations.
    pub fn password(&self) -> Result<Option<Password>, DomainError> {
        let mut password = None;
        for operation in &self.operations {
            match (&operation.path, &operation.value) {
                (Some(path), value) if names_password(path) => {
                    password = match (operation.op, value) {
                        (Op::Remove, _) | (_, None | Some(Value::Null)) => None,
                        (_, Some(Value::String(raw))) => Some(Password::parse(raw)?),
                        (_, Some(_)) => {
                            return Err(DomainError::invalid_value("'password' must be a string"));
                        }
                    };
                }
                (None, Some(Value::Object(values))) => {
                    for (key, value) in values {
                        if PatchPath::parse(key).is_ok_and(|path| names_password(&path)) {
                            password = match value {
                                Value::Null => None,
                                Value::String(raw) => Some(Password::parse(raw)?),
                                _ => {
                                    return Err(DomainError::invalid_value(
                                        "'password' must be a string",
                                    ));
                                }
                            };
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(password)
    }
}

/// Whether `path` is the core User's `password`.
fn names_password(path: &PatchPath) -> bool {
    names_core_attribute(path, "password")
}

/// Whether `path` is the core User's attribute `name` itself (no filter, no sub-attribute),
/// bare or URN-qualified.
pub(super) fn names_core_attribute(path: &PatchPath, name: &str) -> bool {
    matches!(path, PatchPath::Attribute { attr, filter: None, sub: None } if attr.is_core(name))
}
