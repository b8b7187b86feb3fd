//! Queries nested in another: `(SELECT COUNT(*) …)` (or the count a workspace keeps) beside a
//! page's columns, so that a page and its total come back in one statement, and `users.id IN (SELECT users.id … LIMIT … OFFSET …)`,
//! which finds a page's ids in an index before any row is read.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::expression::is_aggregate::Never;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, SingleValue};

use crate::db::MultiBackend;
use crate::sql_filter::Dialect;

/// `query`, written between `open` and `close`, as an expression of SQL type `ST`. Uncorrelated:
/// one value for the whole statement, whatever it groups by.
#[derive(Debug, Clone)]
pub(crate) struct Nested<Q, ST> {
    query: Q,
    open: &'static str,
    close: &'static str,
    sql_type: PhantomData<ST>,
}

/// `(query)`, a query returning one `BIGINT` (a count).
pub(crate) fn count<Q>(query: Q) -> Nested<Q, BigInt> {
    Nested {
        query,
        open: "(",
        close: ")",
        sql_type: PhantomData,
    }
}

/// `COALESCE((query), 0)`, a query returning one `BIGINT` or no row.
pub(crate) fn or_zero<Q>(query: Q) -> Nested<Q, BigInt> {
    Nested {
        query,
        open: "COALESCE((",
        close: "), 0)",
        sql_type: PhantomData,
    }
}

/// `users.id IN (query)`, `query` selecting user ids. On PostgreSQL `users.id = ANY(ARRAY(query))`:
/// the ids are read once, before the outer scan, and the rows found by the primary key, where
/// the planner would otherwise be free to run the subquery for each row of the workspace.
pub(crate) fn user_id_in<Q>(query: Q, dialect: Dialect) -> Nested<Q, Bool> {
    let (open, close) = match dialect {
        Dialect::Postgres => ("users.id = ANY(ARRAY(", "))"),
        Dialect::Sqlite => ("users.id IN (", ")"),
    };
    Nested {
        query,
        open,
        close,
        sql_type: PhantomData,
    }
}

impl<Q, ST: SingleValue> Expression for Nested<Q, ST> {
    type SqlType = ST;
}

impl<Q, ST, QS> AppearsOnTable<QS> for Nested<Q, ST> where Nested<Q, ST>: Expression {}

impl<Q, ST, QS> SelectableExpression<QS> for Nested<Q, ST> where Nested<Q, ST>: Expression {}

impl<Q, ST, GB> ValidGrouping<GB> for Nested<Q, ST> {
    type IsAggregate = Never;
}

impl<Q, ST> QueryId for Nested<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<MultiBackend>, ST> QueryFragment<MultiBackend> for Nested<Q, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(self.open);
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(self.close);
        Ok(())
    }
}
