//! Queries nested in another: `(SELECT COUNT(*) …)` beside a page's columns, so that a page and
//! its total come back in one statement, and `users.id IN (SELECT users.id … LIMIT … OFFSET …)`,
//! which finds a page's ids in an index before any row is read.

use diesel::QueryResult;
use diesel::expression::is_aggregate::Never;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool};

use crate::db::MultiBackend;

/// A query returning one `BIGINT` (a count), as an expression.
#[derive(Debug, Clone)]
pub(crate) struct Count<Q>(pub(crate) Q);

impl<Q> Expression for Count<Q> {
    type SqlType = BigInt;
}

impl<Q, QS> AppearsOnTable<QS> for Count<Q> {}

impl<Q, QS> SelectableExpression<QS> for Count<Q> {}

impl<Q, GB> ValidGrouping<GB> for Count<Q> {
    // Uncorrelated: one value for the whole statement, whatever it groups by.
    type IsAggregate = Never;
}

impl<Q> QueryId for Count<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Count<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("(");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// `users.id IN (query)`, `query` selecting user ids. On PostgreSQL `users.id = ANY(ARRAY(query))`:
/// the ids are read once, before the outer scan, and the rows found by the primary key, where
/// the planner would otherwise be free to run the subquery for each row of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct UserIdIn<Q> {
    pub(crate) query: Q,
    pub(crate) postgres: bool,
}

impl<Q> Expression for UserIdIn<Q> {
    type SqlType = Bool;
}

impl<Q, QS> AppearsOnTable<QS> for UserIdIn<Q> {}

impl<Q, QS> SelectableExpression<QS> for UserIdIn<Q> {}

impl<Q, GB> ValidGrouping<GB> for UserIdIn<Q> {
    type IsAggregate = Never;
}

impl<Q> QueryId for UserIdIn<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for UserIdIn<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        if self.postgres {
            out.push_sql("users.id = ANY(ARRAY(");
            self.query.walk_ast(out.reborrow())?;
            out.push_sql("))");
        } else {
            out.push_sql("users.id IN (");
            self.query.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        Ok(())
    }
}
