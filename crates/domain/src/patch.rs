//! The PATCH engine of RFC 7644 §3.5.2: parses a `PatchOp` message and applies its operations to
//! a resource document, schema aware.
//!
//! The engine only moves JSON; the patched document is then validated exactly like a PUT body,
//! so a PATCH can never store what a PUT would refuse.

use serde_json::{Map, Value};

use crate::DomainError;
use crate::filter::{AttrPath, PatchPath, matcher};
use crate::schema::{self, AttributeDef};
use crate::user::MAX_VALUES;

mod budget;
pub use budget::MAX_WRITTEN_BYTES;
use budget::{Budget, json_size};

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
    /// The request in `body`, taken apart rather than copied: a PATCH body may be a megabyte.
    pub fn parse(mut body: Value) -> Result<PatchRequest, DomainError> {
        if let Some(schemas) = matcher::member(&body, "schemas") {
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
        let object = body
            .as_object_mut()
            .ok_or_else(|| DomainError::InvalidSyntax("a PatchOp is a JSON object".into()))?;
        let Some(Value::Array(operations)) = take(object, "Operations") else {
            return Err(DomainError::InvalidValue(
                "'Operations' must be an array".into(),
            ));
        };
        if operations.is_empty() || operations.len() > MAX_OPERATIONS {
            return Err(DomainError::InvalidValue(format!(
                "'Operations' must hold 1 to {MAX_OPERATIONS} operations"
            )));
        }
        let operations = operations
            .into_iter()
            .map(Operation::parse)
            .collect::<Result<_, _>>()?;
        Ok(PatchRequest { operations })
    }

    /// Applies every operation in order to the User document `doc`, each value checked against
    /// the schema's bounds as it is written and the bytes copied counted against one budget.
    pub fn apply(&self, doc: &mut Map<String, Value>) -> Result<(), DomainError> {
        let mut budget = Budget::default();
        for operation in &self.operations {
            let before = primary::primaries(doc);
            operation.apply(doc, &mut budget)?;
            primary::demote_earlier(doc, &before)?;
        }
        Ok(())
    }
}

/// Removes and returns the member `name` (any casing) of `object`.
fn take(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))?
        .clone();
    object.remove(&key)
}

impl Operation {
    fn parse(mut raw: Value) -> Result<Operation, DomainError> {
        let op = match matcher::member(&raw, "op").and_then(Value::as_str) {
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
        let path = match matcher::member(&raw, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) if path.trim().is_empty() => None,
            Some(Value::String(path)) => Some(PatchPath::parse(path)?),
            Some(_) => return Err(DomainError::InvalidPath("'path' must be a string".into())),
        };
        let value = raw.as_object_mut().and_then(|object| take(object, "value"));
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

    fn apply(&self, doc: &mut Map<String, Value>, budget: &mut Budget) -> Result<(), DomainError> {
        match (&self.path, &self.value) {
            (None, Some(Value::Object(values))) => {
                for (key, value) in values {
                    apply_keyed(doc, self.op, key, value, budget)?;
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
                    // Clients copy the extension object as GET showed it, `schemas` and all.
                    for (key, value) in values
                        .iter()
                        .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
                    {
                        let def = extension_attribute(urn, key)?;
                        write(ext, (urn, def), self.op, value, budget)?;
                    }
                    Ok(())
                }
                _ => Err(DomainError::InvalidValue(format!(
                    "the value for '{urn}' must be an object"
                ))),
            },
            (Some(PatchPath::Attribute { attr, filter, sub }), value) => {
                // An identity provider's custom extension is not stored: its changes are no-ops.
                let Some(target) = Target::resolve(attr)? else {
                    return Ok(());
                };
                let change = Change {
                    op: self.op,
                    value: value.as_ref(),
                };
                match filter {
                    None => apply_plain(doc, &target, attr.sub.as_deref(), change, budget),
                    Some(filter) => filtered::apply_filtered(
                        doc,
                        (&target, filter, sub.as_deref()),
                        change,
                        budget,
                    ),
                }
            }
        }
    }
}

/// What one operation does to its target: the op and its value.
#[derive(Clone, Copy)]
struct Change<'a> {
    op: Op,
    value: Option<&'a Value>,
}

/// Where an attribute lives: at the top of the document, or inside an extension object.
struct Target {
    container: Option<&'static str>,
    def: &'static AttributeDef,
}

impl Target {
    /// The attribute `attr` names; `None` for one of a foreign extension, which is not stored.
    fn resolve(attr: &AttrPath) -> Result<Option<Target>, DomainError> {
        let (container, def) = match &attr.urn {
            Some(urn)
                if schema::user_extension(urn).is_none() && schema::is_foreign_extension(urn) =>
            {
                return Ok(None);
            }
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
        Ok(Some(Target { container, def }))
    }

    /// How errors name the target's parent: its extension's URN, or nothing at the top.
    fn parent(&self) -> &'static str {
        self.container.unwrap_or_default()
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
    budget: &mut Budget,
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
    match operation.apply(doc, budget) {
        Err(DomainError::Mutability(_)) => Ok(()),
        other => other,
    }
}

fn apply_plain(
    doc: &mut Map<String, Value>,
    target: &Target,
    sub: Option<&str>,
    Change { op, value }: Change<'_>,
    budget: &mut Budget,
) -> Result<(), DomainError> {
    let def = target.def;
    let holder = target.holder(doc)?;
    let Some(sub) = sub else {
        return match (op, value) {
            (Op::Remove, Some(value)) if def.multi_valued => {
                remove_values(holder, def, value)?;
                Ok(())
            }
            (Op::Remove, _) => {
                remove_key(holder, def.name);
                Ok(())
            }
            (_, Some(value)) => write(holder, (target.parent(), def), op, value, budget),
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
    if let (Op::Add | Op::Replace, Some(value)) = (op, value) {
        // `emails.value` without a filter addresses the sub-attribute of every element.
        let copies = match get_mut(holder, def.name) {
            Some(Value::Array(items)) if def.multi_valued => items.len(),
            _ => 1,
        };
        budget.write(def.name, sub_def, value, copies)?;
    }
    if def.multi_valued {
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

/// Adds or replaces attribute `def` (under `parent`) in `holder` with `value`, which must be
/// what a PUT would accept for it; an add may not take the attribute past [`MAX_VALUES`].
fn write(
    holder: &mut Map<String, Value>,
    (parent, def): (&str, &'static AttributeDef),
    op: Op,
    value: &Value,
    budget: &mut Budget,
) -> Result<(), DomainError> {
    if def.is_read_only() {
        return Ok(());
    }
    budget.write(parent, def, value, 1)?;
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
        for item in incoming {
            if !existing.contains(&item) {
                existing.push(item);
            }
        }
        return check_count(def, existing.len());
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

/// Whether a multi-valued attribute of `count` values is within [`MAX_VALUES`].
fn check_count(def: &AttributeDef, count: usize) -> Result<(), DomainError> {
    if count > MAX_VALUES {
        return Err(DomainError::InvalidValue(format!(
            "'{}' would hold more than {MAX_VALUES} values",
            def.name
        )));
    }
    Ok(())
}

/// Sets each of `fields` that `def` knows in `object`, under its canonical name; unknown ones
/// are dropped, as a PUT drops them.
fn merge_into(object: &mut Map<String, Value>, def: &AttributeDef, fields: &Map<String, Value>) {
    for (key, value) in fields {
        let Some(sub) = def.sub(key) else {
            continue;
        };
        remove_key(object, sub.name);
        object.insert(sub.name.to_owned(), value.clone());
    }
}

/// Removes from a multi-valued attribute the elements listed in `value` (Entra ID removes group
/// members this way), matching by their `value` sub-attribute where they have one.
fn remove_values(
    holder: &mut Map<String, Value>,
    def: &AttributeDef,
    value: &Value,
) -> Result<(), DomainError> {
    let listed: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    // No attribute holds more; a longer list would only cost comparisons.
    check_count(def, listed.len())?;
    let Some(Value::Array(items)) = get_mut(holder, def.name) else {
        return Ok(());
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
    Ok(())
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

mod active;
mod filtered;
mod password;
mod primary;
#[cfg(test)]
mod tests;
