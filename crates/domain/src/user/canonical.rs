//! A User body's values in canonical form: each attribute checked against its schema (type,
//! length, number of values) and stored under its canonical name; and the checks of the whole
//! body (its `schemas`, its size).

use serde_json::{Map, Value};

use super::{MAX_DOCUMENT_BYTES, MAX_VALUES, is_primary, parse_bool_text};
use crate::DomainError;
use crate::schema::{self, AttributeDef, Kind};

pub(super) fn check_document_size(document: &Map<String, Value>) -> Result<(), DomainError> {
    let size = serde_json::to_string(document).map_or(usize::MAX, |text| text.len());
    if size > MAX_DOCUMENT_BYTES {
        return Err(DomainError::invalid_value(format!(
            "the User is {size} bytes as JSON; at most {MAX_DOCUMENT_BYTES} are stored"
        )));
    }
    Ok(())
}

/// RFC 7643 §2.4: `primary: true` appears at most once in a multi-valued attribute.
pub(super) fn check_primaries(document: &Map<String, Value>) -> Result<(), DomainError> {
    for (name, value) in document {
        let Some(elements) = value.as_array() else {
            continue;
        };
        let marked = elements.iter().filter(|e| is_primary(e)).count();
        if marked > 1 {
            return Err(DomainError::invalid_value(format!(
                "'{name}' may have at most one primary value"
            )));
        }
    }
    Ok(())
}

pub(super) fn check_schemas(object: &Map<String, Value>) -> Result<(), DomainError> {
    let Some(schemas) = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
    else {
        return Ok(());
    };
    let list = schemas
        .1
        .as_array()
        .ok_or_else(|| DomainError::invalid_value("'schemas' must be an array of URNs"))?;
    let unknown = |urn: &str| {
        DomainError::invalid_value(format!(
            "unknown schema '{urn}': a User takes {} and {}",
            schema::CORE_USER,
            schema::ENTERPRISE_USER
        ))
    };
    let (mut user_schema, mut foreign) = (false, None);
    for urn in list {
        let urn = urn
            .as_str()
            .ok_or_else(|| DomainError::invalid_value("'schemas' must be an array of URNs"))?;
        if schema::is_core_user(urn) || schema::user_extension(urn).is_some() {
            user_schema = true;
        } else if schema::is_foreign_extension(urn) {
            // Custom attributes of an identity provider: listed, not stored.
            foreign.get_or_insert(urn);
        } else {
            return Err(unknown(urn));
        }
    }
    match (user_schema, foreign) {
        (false, Some(urn)) => Err(unknown(urn)),
        _ => Ok(()),
    }
}

pub(super) fn type_error(path: &str, def: &AttributeDef) -> DomainError {
    let expected = match (def.multi_valued, def.kind) {
        (true, _) => "an array",
        (false, Kind::Complex) => "an object",
        (false, Kind::Boolean) => "a boolean",
        (false, Kind::Integer | Kind::Decimal) => "a number",
        (false, _) => "a string",
    };
    DomainError::invalid_value(format!("'{path}' must be {expected}"))
}

/// Checks a value a PATCH writes for `def` (under `parent`, empty at the top) as a PUT body's
/// value would be checked: its type, its length, its number of values.
pub(crate) fn check_value(
    parent: &str,
    def: &'static AttributeDef,
    value: &Value,
) -> Result<(), DomainError> {
    canonical_value(parent, def, value).map(|_| ())
}

/// How errors name an attribute: `name` at the top, `parent.name` below, `urn:name` in an
/// extension (RFC 7644 §3.10).
pub(super) fn attribute_path(parent: &str, def: &AttributeDef) -> String {
    if parent.is_empty() {
        def.name.to_owned()
    } else if schema::user_extension(parent).is_some() {
        format!("{parent}:{}", def.name)
    } else {
        format!("{parent}.{}", def.name)
    }
}

/// The value of `def` (under `parent`, empty at the top) in canonical form; `None` when it is
/// null or empty and so not stored.
pub(super) fn canonical_value(
    parent: &str,
    def: &'static AttributeDef,
    value: &Value,
) -> Result<Option<Value>, DomainError> {
    if value.is_null() {
        return Ok(None);
    }
    if def.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        if items.len() > MAX_VALUES {
            return Err(DomainError::invalid_value(format!(
                "'{}' holds more than {MAX_VALUES} values",
                attribute_path(parent, def)
            )));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(item) = canonical_single(parent, def, item)? {
                out.push(item);
            }
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    canonical_single(parent, def, value)
}

pub(super) fn canonical_single(
    parent: &str,
    def: &'static AttributeDef,
    value: &Value,
) -> Result<Option<Value>, DomainError> {
    let canonical = match (def.kind, value) {
        (_, Value::Null) => return Ok(None),
        // Entra ID sends the enterprise `manager` as a bare id: a singular complex attribute
        // with a `value` sub-attribute takes a bare string as that value.
        (Kind::Complex, Value::String(bare)) if !def.multi_valued && def.sub("value").is_some() => {
            let wrapped = Value::Object(Map::from_iter([(
                "value".into(),
                Value::String(bare.clone()),
            )]));
            canonical_object(&attribute_path(parent, def), def.sub_attributes, &wrapped)?
                .map(Value::Object)
        }
        (Kind::Complex, value) => {
            canonical_object(&attribute_path(parent, def), def.sub_attributes, value)?
                .map(Value::Object)
        }
        (Kind::Boolean, Value::Bool(b)) => Some(Value::Bool(*b)),
        (Kind::Boolean, Value::String(s)) => {
            Some(Value::Bool(parse_bool_text(s).ok_or_else(|| {
                type_error(&attribute_path(parent, def), def)
            })?))
        }
        (Kind::Integer | Kind::Decimal, Value::Number(n)) => Some(Value::Number(n.clone())),
        (Kind::String | Kind::Reference | Kind::DateTime, Value::String(s)) => {
            // Databases store text without NUL characters; refuse them rather than fail later.
            if s.contains('\0') {
                return Err(DomainError::invalid_value(format!(
                    "'{}' must not contain NUL characters",
                    attribute_path(parent, def)
                )));
            }
            // Bytes bound characters from above: only a long value needs counting.
            if s.len() > def.max_chars && s.chars().count() > def.max_chars {
                return Err(DomainError::invalid_value(format!(
                    "'{}' must have at most {} characters",
                    attribute_path(parent, def),
                    def.max_chars
                )));
            }
            Some(Value::String(s.clone()))
        }
        _ => return Err(type_error(&attribute_path(parent, def), def)),
    };
    Ok(canonical)
}

/// A complex value with its sub-attributes under canonical names; unknown and read-only
/// sub-attributes are dropped.
pub(super) fn canonical_object(
    name: &str,
    defs: &'static [AttributeDef],
    value: &Value,
) -> Result<Option<Map<String, Value>>, DomainError> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::Object(object) => object,
        _ => {
            return Err(DomainError::invalid_value(format!(
                "'{name}' must be an object"
            )));
        }
    };
    let mut out = Map::new();
    for (key, value) in object {
        let Some(def) = AttributeDef::find(defs, key) else {
            continue;
        };
        if def.is_read_only() {
            continue;
        }
        if let Some(value) = canonical_value(name, def, value)? {
            out.insert(def.name.to_owned(), value);
        }
    }
    Ok((!out.is_empty()).then_some(out))
}
