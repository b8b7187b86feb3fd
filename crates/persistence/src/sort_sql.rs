//! `sortBy` in SQL: the expression a listing is ordered by. An attribute with a column of its own
//! sorts by that column (its folded key where the attribute ignores case); any other singular
//! attribute of a user sorts by its value in the stored document, read with the database's JSON
//! functions (`json_extract` on SQLite, `#>>` on PostgreSQL). Rows without a value come last
//! either way, and `id` breaks ties, so the order is total and pages never overlap.
//!
//! The expression is built from the schema's own names (never from the request's text), so it
//! cannot carry anything the client wrote.

use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::sql_types::{Bool, Text};
use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::AttrPath;
use webwork_scim_domain::schema::{self, AttributeDef, Kind};
use webwork_scim_domain::sort::SortBy;

/// What a listing is ordered by, before `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Column(&'static str),
    /// Keys of the document, outermost first, and whether to compare ignoring case.
    Document {
        steps: Vec<&'static str>,
        fold: bool,
    },
}

fn unsortable(path: &AttrPath, why: &str) -> DomainError {
    DomainError::invalid_value(format!("cannot sort by '{path}': {why}"))
}

fn is_meta(path: &AttrPath, sub: &str) -> bool {
    path.urn.is_none()
        && path.name.eq_ignore_ascii_case("meta")
        && path
            .sub
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(sub))
}

/// The key of a user listing sorted by `path`.
pub(crate) fn user_key(path: &AttrPath) -> Result<Key, DomainError> {
    let column = if path.is_core("userName") {
        Some("user_name_key")
    } else if path.is_core("externalId") {
        Some("external_id")
    } else if path.is_core("id") {
        Some("id")
    } else if path.is_core("active") {
        Some("active")
    } else if is_meta(path, "created") {
        Some("created_at")
    } else if is_meta(path, "lastModified") {
        Some("updated_at")
    } else if path.urn.as_deref().is_none_or(schema::is_core_user)
        && path.name.eq_ignore_ascii_case("emails")
        && path
            .sub
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("value"))
    {
        // A multi-valued attribute sorts by its primary value (RFC 7644 §3.4.2.3).
        Some("email_key")
    } else {
        None
    };
    if let Some(column) = column {
        return Ok(Key::Column(column));
    }
    let (container, def) = match path.urn.as_deref() {
        Some(urn) if !schema::is_core_user(urn) => {
            let (urn, defs) =
                schema::user_extension(urn).ok_or_else(|| unsortable(path, "unknown schema"))?;
            (Some(urn), AttributeDef::find(defs, &path.name))
        }
        _ => (None, schema::user_attribute(&path.name)),
    };
    let def = def.ok_or_else(|| unsortable(path, "unknown attribute"))?;
    let leaf = match (&path.sub, def.kind) {
        (None, Kind::Complex) => return Err(unsortable(path, "name one of its sub-attributes")),
        (None, _) => def,
        (Some(sub), _) => def
            .sub(sub)
            .ok_or_else(|| unsortable(path, "unknown sub-attribute"))?,
    };
    if def.multi_valued || leaf.multi_valued || def.name == "password" {
        return Err(unsortable(path, "only singular attributes sort"));
    }
    let mut steps: Vec<&'static str> = container.into_iter().collect();
    steps.push(def.name);
    if path.sub.is_some() {
        steps.push(leaf.name);
    }
    Ok(Key::Document {
        steps,
        fold: leaf.kind == Kind::String && !leaf.case_exact,
    })
}

/// The key of a group listing sorted by `path`: its columns only.
pub(crate) fn group_key(path: &AttrPath) -> Result<Key, DomainError> {
    let is = |name: &str| {
        path.sub.is_none()
            && path.name.eq_ignore_ascii_case(name)
            && path
                .urn
                .as_deref()
                .is_none_or(|urn| urn.eq_ignore_ascii_case(schema::CORE_GROUP))
    };
    Ok(Key::Column(if is("displayName") {
        "display_name_key"
    } else if is("externalId") {
        "external_id"
    } else if is("id") {
        "id"
    } else if is_meta(path, "created") {
        "created_at"
    } else if is_meta(path, "lastModified") {
        "updated_at"
    } else {
        return Err(unsortable(
            path,
            "groups sort by displayName, externalId, id or meta",
        ));
    }))
}

/// The SQL expression of `key` on the backend (`postgres` or SQLite).
fn expression(key: &Key, postgres: bool) -> String {
    match key {
        Key::Column(column) => (*column).to_owned(),
        Key::Document { steps, fold } => {
            let read = if postgres {
                let keys: Vec<String> = steps.iter().map(|s| format!("\"{s}\"")).collect();
                format!("(CAST(document AS jsonb) #>> '{{{}}}')", keys.join(","))
            } else {
                let keys: Vec<String> = steps.iter().map(|s| format!(".\"{s}\"")).collect();
                format!("json_extract(document, '${}')", keys.concat())
            };
            if *fold {
                format!("lower({read})")
            } else {
                read
            }
        }
    }
}

/// The ORDER BY terms of `sort` before `id`: rows without a value last, then the value.
pub(crate) fn order_terms(
    key: &Key,
    sort: &SortBy,
    postgres: bool,
) -> (SqlLiteral<Bool>, SqlLiteral<Text>) {
    let expression = expression(key, postgres);
    let direction = if sort.descending { "DESC" } else { "ASC" };
    (
        sql::<Bool>(&format!("({expression}) IS NULL")),
        sql::<Text>(&format!("{expression} {direction}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(path: &str) -> Result<Key, DomainError> {
        user_key(&AttrPath::parse(path).unwrap())
    }

    #[test]
    fn user_attributes_map_to_columns_or_document_values() {
        assert_eq!(user("userName").unwrap(), Key::Column("user_name_key"));
        assert_eq!(user("emails").unwrap(), Key::Column("email_key"));
        assert_eq!(
            user("meta.lastModified").unwrap(),
            Key::Column("updated_at")
        );
        let family = user("name.familyName").unwrap();
        assert_eq!(
            family,
            Key::Document {
                steps: vec!["name", "familyName"],
                fold: true
            }
        );
        assert_eq!(
            expression(&family, false),
            r#"lower(json_extract(document, '$."name"."familyName"'))"#
        );
        assert_eq!(
            expression(&family, true),
            r#"lower((CAST(document AS jsonb) #>> '{"name","familyName"}'))"#
        );
        let department =
            user("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").unwrap();
        assert_eq!(
            department,
            Key::Document {
                steps: vec![schema::ENTERPRISE_USER, "department"],
                fold: true
            }
        );
        for refused in [
            "phoneNumbers",
            "name",
            "password",
            "nosuch",
            "urn:example:x:User:y",
        ] {
            assert!(user(refused).is_err(), "{refused}");
        }
    }
}
