//! Operations whose path has a value filter (`emails[type eq "work"].value`): they apply to the
//! matching elements of a multi-valued attribute, and create the element the filter describes
//! when none matches (as Entra ID expects).

use serde_json::{Map, Value};

use super::{
    Budget, Change, Op, Target, check_count, get_mut, json_size, merge_into, remove_key, write_sub,
};
use crate::DomainError;
use crate::filter::{Filter, matcher};
use crate::schema::AttributeDef;

pub(super) fn apply_filtered(
    doc: &mut Map<String, Value>,
    (target, filter, sub): (&Target, &Filter, Option<&str>),
    Change { op, value }: Change<'_>,
    budget: &mut Budget,
) -> Result<(), DomainError> {
    let def = target.def;
    if !def.multi_valued {
        return Err(DomainError::InvalidPath(format!(
            "'{}' is not multi-valued, so it takes no value filter",
            def.name
        )));
    }
    let sub_def = match sub {
        Some(sub) => Some(def.sub(sub).ok_or_else(|| {
            DomainError::InvalidPath(format!("unknown attribute '{}.{sub}'", def.name))
        })?),
        None => None,
    };
    let holder = target.holder(doc)?;
    let scope = matcher::Scope::Element(def);
    let items = match get_mut(holder, def.name) {
        Some(Value::Array(items)) => items,
        _ => {
            holder.insert(def.name.to_owned(), Value::Array(Vec::new()));
            match get_mut(holder, def.name) {
                Some(Value::Array(items)) => items,
                _ => return Err(DomainError::InvalidPath(def.name.to_owned())),
            }
        }
    };
    let matching: Vec<usize> = (0..items.len())
        .filter(|&i| matcher::eval(filter, &items[i], scope))
        .collect();
    if op == Op::Remove {
        remove_matching(items, &matching, sub_def);
        return Ok(());
    }
    let Some(value) = value else { return Ok(()) };
    if matching.is_empty() {
        let element = new_element(def, filter, sub_def, value)?;
        budget.write(target.parent(), def, &element, 1)?;
        items.push(element);
        return check_count(def, items.len());
    }
    match sub_def {
        Some(sub_def) => budget.write(def.name, sub_def, value, matching.len())?,
        None => {
            budget.write(target.parent(), def, value, 1)?;
            budget.charge(json_size(value).saturating_mul(matching.len()))?;
        }
    }
    for &i in &matching {
        let Some(element) = items[i].as_object_mut() else {
            continue;
        };
        match (sub_def, value) {
            (Some(sub_def), value) => write_sub(element, sub_def, op, Some(value)),
            (None, Value::Object(fields)) => merge_into(element, def, fields),
            (None, _) => return Err(not_an_element(def)),
        }
    }
    Ok(())
}

fn not_an_element(def: &AttributeDef) -> DomainError {
    DomainError::InvalidValue(format!(
        "the value for an element of '{}' must be an object",
        def.name
    ))
}

/// Removes the matching elements, or only their sub-attribute `sub_def`.
fn remove_matching(items: &mut Vec<Value>, matching: &[usize], sub_def: Option<&AttributeDef>) {
    match sub_def {
        Some(sub_def) => {
            for &i in matching {
                if let Some(object) = items[i].as_object_mut() {
                    remove_key(object, sub_def.name);
                }
            }
        }
        None => {
            let mut index = 0;
            items.retain(|_| {
                let keep = !matching.contains(&index);
                index += 1;
                keep
            });
        }
    }
}

/// The element a filter of equalities describes, with `value` written into it. Entra ID replaces
/// `emails[type eq "work"].value` on users that have no work email yet: the element is created
/// rather than the request failing.
fn new_element(
    def: &'static AttributeDef,
    filter: &Filter,
    sub_def: Option<&'static AttributeDef>,
    value: &Value,
) -> Result<Value, DomainError> {
    let equalities = filter.equalities().ok_or_else(|| {
        DomainError::NoTarget(format!("no value of '{}' matches the filter", def.name))
    })?;
    let mut element = Map::new();
    for (path, literal) in equalities {
        let name = def.sub(&path.name).map_or(path.name.as_str(), |d| d.name);
        element.insert(name.to_owned(), literal.to_json());
    }
    match (sub_def, value) {
        (Some(sub_def), value) => {
            element.insert(sub_def.name.to_owned(), value.clone());
        }
        (None, Value::Object(fields)) => merge_into(&mut element, def, fields),
        (None, _) => return Err(not_an_element(def)),
    }
    Ok(Value::Object(element))
}
