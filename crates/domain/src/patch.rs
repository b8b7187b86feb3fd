//! The PATCH engine of RFC 7644 §3.5.2: parses a `PatchOp` message and applies its operations to
//! a resource document, schema aware.
//!
//! The engine only moves JSON; the patched document is then validated exactly like a PUT body,
//! so a PATCH can never store what a PUT would refuse.

use serde_json::{Map, Value};

use crate::DomainError;
use crate::filter::{AttrPath, PatchPath, matcher};
use crate::schema::{self, AttributeDef};

/// More operations than any IdP sends in one request (Okta sends at most a few hundred member
/// changes).
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<Operation>,
}

impl PatchRequest {
    pub fn parse(body: &Value) -> Result<PatchRequest, DomainError> {
        let object = body
            .as_object()
            .ok_or_else(|| DomainError::InvalidSyntax("a PatchOp is a JSON object".into()))?;
        if let Some(schemas) = matcher::member(body, "schemas") {
            let listed = schemas.as_array().is_some_and(|list| {
                list.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(schema::PATCH_OP))
                })
            });
            if !listed {
                return Err(DomainError::InvalidValue(format!(
                    "'schemas' must list {}",
                    schema::PATCH_OP
                )));
            }
        }
        let operations = object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
            .and_then(|(_, v)| v.as_array())
            .ok_or_else(|| DomainError::InvalidValue("'Operations' must be an array".into()))?;
        if operations.is_empty() || operations.len() > MAX_OPERATIONS {
            return Err(DomainError::InvalidValue(format!(
                "'Operations' must hold 1 to {MAX_OPERATIONS} operations"
            )));
        }
        let operations = operations
            .iter()
            .map(Operation::parse)
            .collect::<Result<_, _>>()?;
        Ok(PatchRequest { operations })
    }

    /// Applies every operation in order to the User document `doc`.
    pub fn apply(&self, doc: &mut Map<String, Value>) -> Result<(), DomainError> {
        for operation in &self.operations {
            operation.apply(doc)?;
        }
        Ok(())
    }
}

impl Operation {
    fn parse(raw: &Value) -> Result<Operation, DomainError> {
        let op = match matcher::member(raw, "op").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
            Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
            Some(other) => {
                return Err(DomainError::InvalidValue(format!(
                    "'{other}' is not a PATCH op: use add, replace or remove"
                )));
            }
            None => {
                return Err(DomainError::InvalidValue(
                    "every operation needs an 'op'".into(),
                ));
            }
        };
        let path = match matcher::member(raw, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) if path.trim().is_empty() => None,
            Some(Value::String(path)) => Some(PatchPath::parse(path)?),
            Some(_) => return Err(DomainError::InvalidPath("'path' must be a string".into())),
        };
        let value = matcher::member(raw, "value").cloned();
        match (op, &path, &value) {
            (Op::Remove, None, _) => Err(DomainError::NoTarget(
                "a remove operation needs a 'path'".into(),
            )),
            (Op::Add | Op::Replace, _, None) => Err(DomainError::InvalidValue(
                "add and replace operations need a 'value'".into(),
            )),
            (Op::Add | Op::Replace, None, Some(v)) if !v.is_object() => {
                Err(DomainError::InvalidValue(
                    "an operation without 'path' needs an object 'value'".into(),
                ))
            }
            _ => Ok(Operation { op, path, value }),
        }
    }

    fn apply(&self, doc: &mut Map<String, Value>) -> Result<(), DomainError> {
        match (&self.path, &self.value) {
            (None, Some(Value::Object(values))) => {
                for (key, value) in values {
                    apply_keyed(doc, self.op, key, value)?;
                }
                Ok(())
            }
            (None, _) => Ok(()),
            (Some(PatchPath::Extension(urn)), value) => match (self.op, value) {
                (Op::Remove, _) => {
                    remove_key(doc, urn);
                    Ok(())
                }
                (_, Some(Value::Object(values))) => {
                    let ext = object_entry(doc, urn)?;
                    for (key, value) in values {
                        let def = extension_attribute(urn, key)?;
                        write(ext, def, self.op, value)?;
                    }
                    Ok(())
                }
                _ => Err(DomainError::InvalidValue(format!(
                    "the value for '{urn}' must be an object"
                ))),
            },
            (Some(PatchPath::Attribute { attr, filter, sub }), value) => {
                let target = Target::resolve(attr)?;
                match filter {
                    None => apply_plain(doc, &target, attr.sub.as_deref(), self.op, value.as_ref()),
                    Some(filter) => filtered::apply_filtered(
                        doc,
                        &target,
                        filter,
                        sub.as_deref(),
                        self.op,
                        value.as_ref(),
                    ),
                }
            }
        }
    }
}

/// Where an attribute lives: at the top of the document, or inside an extension object.
struct Target {
    container: Option<&'static str>,
    def: &'static AttributeDef,
}

impl Target {
    fn resolve(attr: &AttrPath) -> Result<Target, DomainError> {
        let (container, def) = match &attr.urn {
            Some(urn) if !schema::is_core_user(urn) => {
                let (urn, _) = schema::user_extension(urn)
                    .ok_or_else(|| DomainError::InvalidPath(format!("unknown schema '{urn}'")))?;
                (Some(urn), extension_attribute(urn, &attr.name)?)
            }
            _ => (
                None,
                schema::user_attribute(&attr.name).ok_or_else(|| {
                    DomainError::InvalidPath(format!("unknown attribute '{}'", attr.name))
                })?,
            ),
        };
        if def.is_read_only() {
            return Err(DomainError::Mutability(def.name.to_owned()));
        }
        Ok(Target { container, def })
    }

    fn holder<'a>(
        &self,
        doc: &'a mut Map<String, Value>,
    ) -> Result<&'a mut Map<String, Value>, DomainError> {
        match self.container {
            Some(urn) => object_entry(doc, urn),
            None => Ok(doc),
        }
    }
}

fn extension_attribute(urn: &str, name: &str) -> Result<&'static AttributeDef, DomainError> {
    schema::user_extension(urn)
        .and_then(|(_, defs)| AttributeDef::find(defs, name))
        .ok_or_else(|| DomainError::InvalidPath(format!("unknown attribute '{urn}:{name}'")))
}

/// One key of a path-less add/replace value: `active`, `name.givenName`, a whole extension, or a
/// URN-qualified attribute (Entra ID). Read-only keys such as `id` are skipped, since IdPs echo
/// them back.
fn apply_keyed(
    doc: &mut Map<String, Value>,
    op: Op,
    key: &str,
    value: &Value,
) -> Result<(), DomainError> {
    if key.eq_ignore_ascii_case("schemas") {
        return Ok(());
    }
    let path = PatchPath::parse(key)
        .map_err(|_| DomainError::InvalidValue(format!("'{key}' is not an attribute name")))?;
    let operation = Operation {
        op,
        path: Some(path),
        value: Some(value.clone()),
    };
    match operation.apply(doc) {
        Err(DomainError::Mutability(_)) => Ok(()),
        other => other,
    }
}

fn apply_plain(
    doc: &mut Map<String, Value>,
    target: &Target,
    sub: Option<&str>,
    op: Op,
    value: Option<&Value>,
) -> Result<(), DomainError> {
    let def = target.def;
    let holder = target.holder(doc)?;
    let Some(sub) = sub else {
        return match (op, value) {
            (Op::Remove, Some(value)) if def.multi_valued => {
                remove_values(holder, def, value);
                Ok(())
            }
            (Op::Remove, _) => {
                remove_key(holder, def.name);
                Ok(())
            }
            (_, Some(value)) => write(holder, def, op, value),
            (_, None) => Ok(()),
        };
    };
    let sub_def = def.sub(sub).ok_or_else(|| {
        DomainError::InvalidPath(format!("unknown attribute '{}.{sub}'", def.name))
    })?;
    if sub_def.is_read_only() {
        return Err(DomainError::Mutability(format!(
            "{}.{}",
            def.name, sub_def.name
        )));
    }
    if def.multi_valued {
        // `emails.value` without a filter addresses the sub-attribute of every element.
        if let Some(Value::Array(items)) = get_mut(holder, def.name) {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                write_sub(item, sub_def, op, value);
            }
        }
        return Ok(());
    }
    if op == Op::Remove {
        if let Some(Value::Object(object)) = get_mut(holder, def.name) {
            remove_key(object, sub_def.name);
        }
        return Ok(());
    }
    let object = object_entry(holder, def.name)?;
    write_sub(object, sub_def, op, value);
    Ok(())
}

/// Adds or replaces attribute `def` in `holder` with `value`.
fn write(
    holder: &mut Map<String, Value>,
    def: &'static AttributeDef,
    op: Op,
    value: &Value,
) -> Result<(), DomainError> {
    if def.is_read_only() {
        return Ok(());
    }
    if def.multi_valued {
        let incoming = match value {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            single => vec![single.clone()],
        };
        if op == Op::Replace {
            remove_key(holder, def.name);
            holder.insert(def.name.to_owned(), Value::Array(incoming));
            return Ok(());
        }
        let existing = match get_mut(holder, def.name) {
            Some(Value::Array(items)) => items,
            _ => {
                remove_key(holder, def.name);
                holder.insert(def.name.to_owned(), Value::Array(Vec::new()));
                match get_mut(holder, def.name) {
                    Some(Value::Array(items)) => items,
                    _ => return Ok(()),
                }
            }
        };
        if existing.len() + incoming.len() > crate::user::MAX_VALUES * 2 {
            return Err(DomainError::InvalidValue(format!(
                "'{}' would hold more than {} values",
                def.name,
                crate::user::MAX_VALUES
            )));
        }
        for item in incoming {
            if !existing.contains(&item) {
                existing.push(item);
            }
        }
        return Ok(());
    }
    if let (Some(fields), false) = (value.as_object(), def.sub_attributes.is_empty()) {
        let object = object_entry(holder, def.name)?;
        merge_into(object, def, fields);
        return Ok(());
    }
    remove_key(holder, def.name);
    holder.insert(def.name.to_owned(), value.clone());
    Ok(())
}

fn write_sub(
    object: &mut Map<String, Value>,
    sub_def: &'static AttributeDef,
    op: Op,
    value: Option<&Value>,
) {
    remove_key(object, sub_def.name);
    if let (Op::Add | Op::Replace, Some(value)) = (op, value) {
        object.insert(sub_def.name.to_owned(), value.clone());
    }
}

/// Sets each of `fields` in `object`, under its canonical name where `def` knows it.
fn merge_into(object: &mut Map<String, Value>, def: &AttributeDef, fields: &Map<String, Value>) {
    for (key, value) in fields {
        let name = def.sub(key).map_or(key.as_str(), |d| d.name);
        remove_key(object, name);
        object.insert(name.to_owned(), value.clone());
    }
}

/// Removes from a multi-valued attribute the elements listed in `value` (Entra ID removes group
/// members this way), matching by their `value` sub-attribute where they have one.
fn remove_values(holder: &mut Map<String, Value>, def: &AttributeDef, value: &Value) {
    let listed: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let Some(Value::Array(items)) = get_mut(holder, def.name) else {
        return;
    };
    items.retain(|item| {
        !listed.iter().any(|gone| {
            match (
                matcher::member(gone, "value"),
                matcher::member(item, "value"),
            ) {
                (Some(a), Some(b)) => a == b,
                _ => *gone == item,
            }
        })
    });
}

fn get_mut<'a>(object: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    let key = object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))?
        .clone();
    object.get_mut(&key)
}

fn remove_key(object: &mut Map<String, Value>, name: &str) {
    object.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

/// The object stored under `name`, created when absent; a non-object there is an error.
fn object_entry<'a>(
    object: &'a mut Map<String, Value>,
    name: &str,
) -> Result<&'a mut Map<String, Value>, DomainError> {
    let key = match object.keys().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(key) => key.clone(),
        None => {
            object.insert(name.to_owned(), Value::Object(Map::new()));
            name.to_owned()
        }
    };
    let entry = object
        .get_mut(&key)
        .ok_or_else(|| DomainError::InvalidPath(name.to_owned()))?;
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry
        .as_object_mut()
        .ok_or_else(|| DomainError::InvalidValue(format!("'{name}' is not a complex attribute")))
}

mod filtered;
mod password;
#[cfg(test)]
mod tests;
