//! Translates a SCIM filter into a SQL condition on the groups table: `displayName` (compared
//! case-insensitively through its folded column), `externalId`, `id` and `meta.lastModified`.
//! Anything else is refused with `invalidFilter`, never answered by a full scan.

use diesel::dsl::not;
use diesel::prelude::*;
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use webwork_scim_domain::text::fold_key;
use webwork_scim_domain::{DomainError, schema};

use crate::schema::groups;
use crate::sql_filter::{Condition, text_condition, text_value, time_condition};

pub(super) fn condition(filter: &Filter) -> Result<Condition<groups::table>, DomainError> {
    Ok(match filter {
        Filter::And(left, right) => Box::new(condition(left)?.and(condition(right)?)),
        Filter::Or(left, right) => Box::new(condition(left)?.or(condition(right)?)),
        Filter::Not(inner) => Box::new(not(condition(inner)?)),
        Filter::Present(path) => match column(path)? {
            Column::ExternalId => Box::new(groups::external_id.is_not_null()),
            Column::DisplayName | Column::Id | Column::LastModified => {
                Box::new(groups::id.is_not_null())
            }
        },
        Filter::Compare { path, op, value } => compare(path, *op, value)?,
        Filter::ValuePath { path, .. } => return Err(unsupported(path)),
    })
}

fn unsupported(path: &AttrPath) -> DomainError {
    DomainError::UnsupportedFilter(format!(
        "filtering groups on '{path}' is not supported; use displayName, externalId, id or \
         meta.lastModified"
    ))
}

#[derive(Clone, Copy)]
enum Column {
    DisplayName,
    ExternalId,
    Id,
    LastModified,
}

fn column(path: &AttrPath) -> Result<Column, DomainError> {
    let core = path
        .urn
        .as_deref()
        .is_none_or(|urn| urn.eq_ignore_ascii_case(schema::CORE_GROUP));
    let name = |wanted: &str| core && path.sub.is_none() && path.name.eq_ignore_ascii_case(wanted);
    if name("displayName") {
        Ok(Column::DisplayName)
    } else if name("externalId") {
        Ok(Column::ExternalId)
    } else if name("id") {
        Ok(Column::Id)
    } else if path.urn.is_none()
        && path.name.eq_ignore_ascii_case("meta")
        && path
            .sub
            .as_deref()
            .is_some_and(|sub| sub.eq_ignore_ascii_case("lastModified"))
    {
        Ok(Column::LastModified)
    } else {
        Err(unsupported(path))
    }
}

fn compare(
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> Result<Condition<groups::table>, DomainError> {
    match column(path)? {
        Column::DisplayName => {
            let key = fold_key(text_value(path, value)?);
            text_condition(groups::display_name_key, op, key, path)
        }
        Column::Id => {
            let id = text_value(path, value)?.to_owned();
            text_condition(groups::id, op, id, path)
        }
        Column::ExternalId => {
            let external = text_value(path, value)?.to_owned();
            let column = groups::external_id.assume_not_null();
            Ok(match op {
                // A group without externalId is not equal to any value.
                CompareOp::Ne => Box::new(groups::external_id.is_null().or(column.ne(external))),
                _ => Box::new(
                    groups::external_id
                        .is_not_null()
                        .and(text_condition(column, op, external, path)?),
                ),
            })
        }
        Column::LastModified => time_condition(groups::updated_at, op, value),
    }
}
