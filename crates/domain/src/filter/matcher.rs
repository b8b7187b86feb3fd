//! Evaluates a filter against a JSON resource, following RFC 7644 §3.4.2.2: attribute names are
//! case-insensitive, string comparisons honour the attribute's `caseExact`, and a multi-valued
//! attribute matches when any of its values does.

use std::cmp::Ordering;

use serde_json::Value;

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::schema::{self, AttributeDef};
use crate::text::fold_key;

/// Whether the User resource `resource` matches `filter`.
pub fn matches(filter: &Filter, resource: &Value) -> bool {
    eval(filter, resource, Scope::Resource)
}

/// Where attribute names in a filter are resolved: at the top of a User, or inside an element of
/// a multi-valued attribute (the filter of a value path).
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Resource,
    Element(&'static AttributeDef),
}

pub(crate) fn eval(filter: &Filter, value: &Value, scope: Scope) -> bool {
    match filter {
        Filter::And(left, right) => eval(left, value, scope) && eval(right, value, scope),
        Filter::Or(left, right) => eval(left, value, scope) || eval(right, value, scope),
        Filter::Not(inner) => !eval(inner, value, scope),
        Filter::Present(path) => resolve(path, value, scope)
            .iter()
            .any(|(v, _)| is_present(v)),
        // RFC 7643 §2.5: null and unassigned are one state, so `eq null` is "not present".
        Filter::Compare {
            path,
            op,
            value: CompValue::Null,
        } => {
            let present = resolve(path, value, scope)
                .iter()
                .any(|(v, _)| is_present(v));
            match op {
                CompareOp::Eq => !present,
                CompareOp::Ne => present,
                _ => false,
            }
        }
        Filter::Compare {
            path,
            op,
            value: literal,
        } => {
            let candidates = resolve(path, value, scope);
            if *op == CompareOp::Ne {
                return !candidates
                    .iter()
                    .any(|(v, how)| compare(v, CompareOp::Eq, literal, *how));
            }
            candidates
                .iter()
                .any(|(v, how)| compare(v, *op, literal, *how))
        }
        Filter::ValuePath { path, filter } => {
            let element_scope = definition(path, scope).map_or(scope, Scope::Element);
            resolve(path, value, scope)
                .iter()
                .any(|(element, _)| eval(filter, element, element_scope))
        }
    }
}

fn definition(path: &AttrPath, scope: Scope) -> Option<&'static AttributeDef> {
    let def = match scope {
        Scope::Resource => match &path.urn {
            Some(urn) if !schema::is_core_user(urn) => {
                let (_, defs) = schema::user_extension(urn)?;
                AttributeDef::find(defs, &path.name)?
            }
            _ => schema::user_attribute(&path.name)?,
        },
        Scope::Element(parent) => parent.sub(&path.name)?,
    };
    match &path.sub {
        Some(sub) => def.sub(sub),
        None => Some(def),
    }
}

/// The object member `name`, matched case-insensitively.
pub(crate) fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// How the values of an attribute compare: case-exactly or not, and as instants or as text.
#[derive(Clone, Copy)]
struct Comparison {
    case_exact: bool,
    instants: bool,
}

/// Every value `path` reaches in `value`, flattened over multi-valued attributes, each with
/// how it compares.
fn resolve<'a>(path: &AttrPath, value: &'a Value, scope: Scope) -> Vec<(&'a Value, Comparison)> {
    let def = definition(path, scope);
    let how = Comparison {
        case_exact: def.is_some_and(|def| def.case_exact),
        instants: def.is_some_and(|def| def.kind == schema::Kind::DateTime),
    };
    let container = match (&path.urn, scope) {
        (Some(urn), Scope::Resource) if !schema::is_core_user(urn) => member(value, urn),
        _ => Some(value),
    };
    let Some(attribute) = container.and_then(|c| member(c, &path.name)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in flatten(attribute) {
        match &path.sub {
            Some(sub) => out.extend(member(item, sub).into_iter().flat_map(flatten)),
            None => out.push(item),
        }
    }
    out.into_iter().map(|v| (v, how)).collect()
}

fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

fn compare(actual: &Value, op: CompareOp, literal: &CompValue, how: Comparison) -> bool {
    match (actual, literal) {
        (Value::String(actual), CompValue::String(expected)) => {
            // Two RFC 3339 timestamps (`meta.lastModified`) compare as instants, whatever their
            // offsets and fractions.
            if how.instants
                && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                && let (Some(actual), Some(expected)) = (instant(actual), instant(expected))
            {
                return ordered(actual.cmp(&expected), op);
            }
            let (actual, expected) = if how.case_exact {
                (actual.clone(), expected.clone())
            } else {
                (fold_key(actual), fold_key(expected))
            };
            match op {
                CompareOp::Eq => actual == expected,
                CompareOp::Ne => actual != expected,
                CompareOp::Co => actual.contains(&expected),
                CompareOp::Sw => actual.starts_with(&expected),
                CompareOp::Ew => actual.ends_with(&expected),
                _ => ordered(actual.cmp(&expected), op),
            }
        }
        (Value::Bool(actual), CompValue::Bool(expected)) => match op {
            CompareOp::Eq => actual == expected,
            CompareOp::Ne => actual != expected,
            _ => false,
        },
        // A quoted boolean (`roles[primary eq "True"]`, as IdPs write them) against a stored one.
        (Value::Bool(actual), CompValue::String(expected)) => {
            let parsed = crate::user::parse_bool_text(expected);
            match op {
                CompareOp::Eq => parsed == Some(*actual),
                CompareOp::Ne => parsed != Some(*actual),
                _ => false,
            }
        }
        // IdPs send booleans as strings ("True"); compare them as booleans.
        (Value::String(actual), CompValue::Bool(expected)) => {
            let parsed = crate::user::parse_bool_text(actual);
            match op {
                CompareOp::Eq => parsed == Some(*expected),
                CompareOp::Ne => parsed != Some(*expected),
                _ => false,
            }
        }
        (Value::Number(actual), CompValue::Number(expected)) => {
            match (actual.as_f64(), expected.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordered(o, op)),
                _ => false,
            }
        }
        (Value::Null, CompValue::Null) => op == CompareOp::Eq,
        _ => false,
    }
}

fn instant(text: &str) -> Option<time::OffsetDateTime> {
    // Cheap refusal first: most strings compared are not timestamps.
    if text.len() < 20 || !text.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

fn ordered(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Ne => ordering.is_ne(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Ge => ordering.is_ge(),
        CompareOp::Le => ordering.is_le(),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
