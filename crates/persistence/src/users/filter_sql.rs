//! Translates a SCIM filter into a SQL condition on the users table, for the attributes that
//! have columns. Anything else is refused with `invalidFilter`, never answered by a full scan.

use diesel::dsl::not;
use diesel::prelude::*;
use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use webwork_scim_domain::text::fold_key;
use webwork_scim_domain::user::parse_bool_text;

use crate::schema::users;
use crate::sql_filter::{text_condition, text_value, time_condition};

type Condition = crate::sql_filter::Condition<users::table>;

/// A SQL condition for `filter`. It is exact unless [`needs_row_check`]: a value path on
/// `emails` narrows to the users whose primary email has the value, and the caller then checks
/// each row against the filter itself. Email look-ups match the primary email only, as
/// `emails.value` does.
pub(super) fn condition(filter: &Filter) -> Result<Condition, DomainError> {
    Ok(match filter {
        Filter::And(left, right) => Box::new(condition(left)?.and(condition(right)?)),
        Filter::Or(left, right) => Box::new(condition(left)?.or(condition(right)?)),
        // The complement of a narrowing is no narrowing of the complement.
        Filter::Not(inner) if needs_row_check(inner) => {
            return Err(DomainError::UnsupportedFilter(
                "'not' cannot enclose a value filter".into(),
            ));
        }
        Filter::Not(inner) => Box::new(not(condition(inner)?)),
        Filter::Present(path) => present(path)?,
        Filter::Compare { path, op, value } => compare(path, *op, value)?,
        Filter::ValuePath { path, filter } => email_value_path(path, filter)?,
    })
}

/// Whether the SQL of `filter` only narrows, so that each row must be checked afterwards.
pub(super) fn needs_row_check(filter: &Filter) -> bool {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            needs_row_check(left) || needs_row_check(right)
        }
        Filter::Not(inner) => needs_row_check(inner),
        Filter::ValuePath { .. } => true,
        Filter::Present(_) | Filter::Compare { .. } => false,
    }
}

/// `emails[type eq "work" and value eq "x"]`, as Entra ID looks users up (also written
/// `emails[type eq "work"].value eq "x"`): the rows whose primary email is `x`.
fn email_value_path(path: &AttrPath, filter: &Filter) -> Result<Condition, DomainError> {
    let is_emails = path
        .urn
        .as_deref()
        .is_none_or(webwork_scim_domain::schema::is_core_user)
        && path.sub.is_none()
        && path.name.eq_ignore_ascii_case("emails");
    let value = filter.equalities().and_then(|terms| {
        terms.into_iter().find_map(|(attr, value)| match value {
            CompValue::String(text)
                if attr.urn.is_none()
                    && attr.sub.is_none()
                    && attr.name.eq_ignore_ascii_case("value") =>
            {
                Some(text.clone())
            }
            _ => None,
        })
    });
    match (is_emails, value) {
        (true, Some(value)) => {
            Ok(Box::new(users::email_key.is_not_null().and(
                users::email_key.assume_not_null().eq(fold_key(&value)),
            )))
        }
        _ => Err(DomainError::UnsupportedFilter(format!(
            "'{path}[…]' is supported only as emails[… and value eq \"…\"]"
        ))),
    }
}

fn unsupported(path: &AttrPath) -> DomainError {
    DomainError::UnsupportedFilter(format!(
        "filtering on '{path}' is not supported; use userName, externalId, emails.value, id, \
         active or meta.lastModified"
    ))
}

#[derive(Clone, Copy)]
enum Column {
    /// `emails.value`, answered from the folded primary email.
    Email,
    UserName,
    ExternalId,
    Id,
    Active,
    LastModified,
}

fn column(path: &AttrPath) -> Result<Column, DomainError> {
    if path.is_core("userName") {
        Ok(Column::UserName)
    } else if path.is_core("externalId") {
        Ok(Column::ExternalId)
    } else if path
        .urn
        .as_deref()
        .is_none_or(webwork_scim_domain::schema::is_core_user)
        && path.name.eq_ignore_ascii_case("emails")
        && path
            .sub
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("value"))
    {
        Ok(Column::Email)
    } else if path.is_core("id") {
        Ok(Column::Id)
    } else if path.is_core("active") {
        Ok(Column::Active)
    } else if path.urn.is_none()
        && path.name.eq_ignore_ascii_case("meta")
        && path
            .sub
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("lastModified"))
    {
        Ok(Column::LastModified)
    } else {
        Err(unsupported(path))
    }
}

fn present(path: &AttrPath) -> Result<Condition, DomainError> {
    Ok(match column(path)? {
        Column::ExternalId => Box::new(users::external_id.is_not_null()),
        Column::Email => Box::new(users::email_key.is_not_null()),
        // The other columns are never null.
        Column::UserName | Column::Id | Column::Active | Column::LastModified => {
            Box::new(users::id.is_not_null())
        }
    })
}

fn compare(path: &AttrPath, op: CompareOp, value: &CompValue) -> Result<Condition, DomainError> {
    match column(path)? {
        Column::UserName => {
            let key = fold_key(text_value(path, value)?);
            text_condition(users::user_name_key, op, key, path)
        }
        Column::Id => {
            let id = text_value(path, value)?.to_owned();
            text_condition(users::id, op, id, path)
        }
        Column::Email => {
            if op != CompareOp::Eq {
                return Err(DomainError::UnsupportedFilter(
                    "'emails.value' takes only eq (it matches the primary email)".into(),
                ));
            }
            let key = fold_key(text_value(path, value)?);
            Ok(Box::new(
                users::email_key
                    .is_not_null()
                    .and(users::email_key.assume_not_null().eq(key)),
            ))
        }
        Column::ExternalId => {
            let external = text_value(path, value)?.to_owned();
            let not_null = users::external_id.is_not_null();
            let column = users::external_id.assume_not_null();
            Ok(match op {
                // A user without externalId is not equal to any value.
                CompareOp::Ne => Box::new(users::external_id.is_null().or(column.ne(external))),
                _ => Box::new(not_null.and(text_condition(column, op, external, path)?)),
            })
        }
        Column::Active => {
            // `"True"` as identity providers quote it is the boolean.
            let wanted = match value {
                CompValue::Bool(wanted) => *wanted,
                CompValue::String(text) => parse_bool_text(text).ok_or_else(|| {
                    DomainError::InvalidFilter("'active' compares with true or false".into())
                })?,
                _ => {
                    return Err(DomainError::InvalidFilter(
                        "'active' compares with true or false".into(),
                    ));
                }
            };
            match op {
                CompareOp::Eq => Ok(Box::new(users::active.eq(wanted))),
                CompareOp::Ne => Ok(Box::new(users::active.ne(wanted))),
                _ => Err(DomainError::InvalidFilter(
                    "'active' takes only eq and ne".into(),
                )),
            }
        }
        Column::LastModified => time_condition(users::updated_at, op, value),
    }
}
