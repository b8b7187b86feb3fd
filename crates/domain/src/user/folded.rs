//! The document as filters compare it: every string of an attribute that ignores case
//! (`caseExact: false`) replaced by its folded key, every other value as stored.
//!
//! The database keeps it beside the document, so that a filter on any attribute compares the
//! folded literal with a folded value in SQL and answers exactly what the in-memory matcher
//! answers, with Unicode's full case folding on both backends (SQL's `lower()` knows only ASCII on
//! SQLite and the collation's rules on PostgreSQL).

use serde_json::{Map, Value};

use crate::schema::{self, AttributeDef, Kind};
use crate::text::fold_key;

/// `document` (a stored User document, under canonical names) with its case-insensitive strings
/// folded.
pub fn folded_document(document: &Map<String, Value>) -> Map<String, Value> {
    document
        .iter()
        .map(|(name, value)| {
            let folded = match schema::user_extension(name) {
                Some((_, defs)) => fold_object(defs, value),
                None => match schema::user_attribute(name) {
                    Some(def) => fold_value(def, value),
                    None => value.clone(),
                },
            };
            (name.clone(), folded)
        })
        .collect()
}

fn fold_value(def: &AttributeDef, value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| fold_value(def, v)).collect()),
        Value::Object(_) if def.kind == Kind::Complex => fold_object(def.sub_attributes, value),
        Value::String(text) if folds(def) => Value::String(fold_key(text)),
        other => other.clone(),
    }
}

fn fold_object(defs: &'static [AttributeDef], value: &Value) -> Value {
    let Value::Object(object) = value else {
        return value.clone();
    };
    Value::Object(
        object
            .iter()
            .map(|(name, value)| {
                let folded = match AttributeDef::find(defs, name) {
                    Some(def) => fold_value(def, value),
                    None => value.clone(),
                };
                (name.clone(), folded)
            })
            .collect(),
    )
}

/// Whether filters compare `def`'s strings ignoring case.
pub fn folds(def: &AttributeDef) -> bool {
    matches!(def.kind, Kind::String | Kind::Reference) && !def.case_exact
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_that_ignore_case_are_folded_and_the_rest_kept() {
        let document = json!({
            "userName": "Straße@Acme.com",
            "externalId": "00uJane",
            "active": true,
            "name": {"familyName": "ÉCOLE"},
            "emails": [{"value": "Jane@ACME.com", "primary": true, "type": "Work"}],
            schema::ENTERPRISE_USER: {"department": "R&D", "manager": {"value": "Boss"}},
        });
        let folded = Value::Object(folded_document(document.as_object().unwrap()));
        assert_eq!(
            folded,
            json!({
                "userName": "strasse@acme.com",
                "externalId": "00uJane",
                "active": true,
                "name": {"familyName": fold_key("ÉCOLE")},
                "emails": [{"value": "jane@acme.com", "primary": true, "type": "work"}],
                schema::ENTERPRISE_USER: {"department": "r&d", "manager": {"value": "boss"}},
            })
        );
    }
}
