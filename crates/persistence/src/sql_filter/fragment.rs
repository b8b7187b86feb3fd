//! A SQL condition written piece by piece, with its values bound as parameters (never spliced
//! into the text), usable wherever diesel takes a boolean expression.

use diesel::QueryResult;
use diesel::expression::is_aggregate::Never;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text, Timestamp};

use crate::db::MultiBackend;

#[derive(Debug, Clone)]
enum Part {
    Raw(String),
    Text(String),
    Time(time::PrimitiveDateTime),
}

/// SQL text and bound values, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    parts: Vec<Part>,
    /// Whether every row the condition holds for is found by seeking an index of the listed
    /// table with one of its terms (`userName eq`, `externalId eq`, `userName sw`, alone or
    /// and'ed with others): the few rows
    /// it selects are better read that way and sorted than found by walking the workspace in
    /// order. Not carried by [`Sql::append`], which wraps a condition in another.
    pub(crate) seeks: bool,
}

impl Sql {
    pub(crate) fn raw(text: impl Into<String>) -> Sql {
        Sql {
            parts: vec![Part::Raw(text.into())],
            seeks: false,
        }
    }

    pub(crate) fn push(&mut self, text: impl Into<String>) -> &mut Sql {
        self.parts.push(Part::Raw(text.into()));
        self
    }

    pub(crate) fn bind_text(&mut self, value: String) -> &mut Sql {
        self.parts.push(Part::Text(value));
        self
    }

    pub(crate) fn bind_time(&mut self, value: time::PrimitiveDateTime) -> &mut Sql {
        self.parts.push(Part::Time(value));
        self
    }

    pub(crate) fn append(&mut self, other: Sql) -> &mut Sql {
        self.parts.extend(other.parts);
        self
    }

    /// `(left op right)`.
    pub(crate) fn join(left: Sql, op: &str, right: Sql) -> Sql {
        let mut sql = Sql::raw("(");
        // Either side of an `and` narrows the rows; SQLite seeks neither side of an `or`.
        sql.seeks = op == "AND" && (left.seeks || right.seeks);
        sql.append(left)
            .push(format!(" {op} "))
            .append(right)
            .push(")");
        sql
    }

    pub(crate) fn negate(inner: Sql) -> Sql {
        let mut sql = Sql::raw("(NOT ");
        sql.append(inner).push(")");
        sql
    }
}

impl Expression for Sql {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for Sql {}

impl<QS> SelectableExpression<QS> for Sql {}

impl<GB> ValidGrouping<GB> for Sql {
    type IsAggregate = Never;
}

impl QueryId for Sql {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for Sql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Raw(text) => out.push_sql(text),
                Part::Text(value) => out.push_bind_param::<Text, _>(value)?,
                Part::Time(value) => out.push_bind_param::<Timestamp, _>(value)?,
            }
        }
        Ok(())
    }
}
