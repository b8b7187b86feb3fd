//! The comparisons of a SCIM filter that every resource's SQL translation shares: text columns
//! with `eq`/`ne`/`co`/`sw`/`ew`, and time columns with the ordering operators.

use diesel::expression::ValidGrouping;
use diesel::expression::is_aggregate::No;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{Bool, Text, Timestamp};
use time::format_description::well_known::Rfc3339;
use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp};
use webwork_scim_domain::text::escape_like;

use crate::clock;
use crate::db::MultiBackend;

/// A boxed SQL condition on table `T`.
pub(crate) type Condition<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>;

pub(crate) fn text_value<'a>(
    path: &AttrPath,
    value: &'a CompValue,
) -> Result<&'a str, DomainError> {
    match value {
        CompValue::String(text) => Ok(text),
        _ => Err(DomainError::InvalidFilter(format!(
            "'{path}' compares with a string"
        ))),
    }
}

/// `eq`, `ne`, `co`, `sw` and `ew` on a text column. `LIKE` is case-sensitive on both backends
/// (SQLite's `case_sensitive_like` is on), and the metacharacters of the value are escaped.
pub(crate) fn text_condition<T, C>(
    column: C,
    op: CompareOp,
    value: String,
    path: &AttrPath,
) -> Result<Condition<T>, DomainError>
where
    C: Expression<SqlType = Text>
        + TextExpressionMethods
        + ExpressionMethods
        + SelectableExpression<T>
        + AppearsOnTable<T>
        + ValidGrouping<(), IsAggregate = No>
        + QueryFragment<MultiBackend>
        + Send
        + 'static,
{
    Ok(match op {
        CompareOp::Eq => Box::new(column.eq(value)),
        CompareOp::Ne => Box::new(column.ne(value)),
        CompareOp::Co => Box::new(
            column
                .like(format!("%{}%", escape_like(&value)))
                .escape('\\'),
        ),
        CompareOp::Sw => Box::new(
            column
                .like(format!("{}%", escape_like(&value)))
                .escape('\\'),
        ),
        CompareOp::Ew => Box::new(
            column
                .like(format!("%{}", escape_like(&value)))
                .escape('\\'),
        ),
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            return Err(DomainError::UnsupportedFilter(format!(
                "'{path}' takes eq, ne, co, sw, ew and pr"
            )));
        }
    })
}

/// `meta.lastModified` (or another time) compared with an RFC 3339 date-time.
pub(crate) fn time_condition<T, C>(
    column: C,
    op: CompareOp,
    value: &CompValue,
) -> Result<Condition<T>, DomainError>
where
    C: Expression<SqlType = Timestamp>
        + ExpressionMethods
        + SelectableExpression<T>
        + AppearsOnTable<T>
        + ValidGrouping<(), IsAggregate = No>
        + QueryFragment<MultiBackend>
        + Send
        + 'static,
{
    let invalid = || {
        DomainError::InvalidFilter("meta.lastModified compares with an RFC 3339 date-time".into())
    };
    let CompValue::String(text) = value else {
        return Err(invalid());
    };
    let at = clock::to_db(time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| invalid())?);
    Ok(match op {
        CompareOp::Gt => Box::new(column.gt(at)),
        CompareOp::Ge => Box::new(column.ge(at)),
        CompareOp::Lt => Box::new(column.lt(at)),
        CompareOp::Le => Box::new(column.le(at)),
        CompareOp::Eq => Box::new(column.eq(at)),
        CompareOp::Ne => Box::new(column.ne(at)),
        _ => {
            return Err(DomainError::InvalidFilter(
                "meta.lastModified takes eq, ne, gt, ge, lt and le".into(),
            ));
        }
    })
}
