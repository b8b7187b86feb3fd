//! Queries kept in the connection's prepared-statement cache where diesel, to keep that cache
//! small, would prepare them anew on every run: an `IN` list, whose length varies, and an
//! `UPDATE`, whose changeset may skip fields. The cache is keyed by the SQL text itself, so each
//! shape is prepared once per connection and reused; [`padded`] keeps the number of `IN` lengths
//! small. Diesel hands statements it only executes to the connection by reference, past this
//! wrapper, so an `UPDATE` is loaded with a `RETURNING` clause instead
//! ([`crate::TenantTx`]'s `update`). Multi-row `INSERT`s are kept in the cache by diesel itself
//! when their rows are a fixed-size array (`insert_rows!` in `inserts.rs`).

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Reused<Q>(pub(crate) Q);

impl<Q, DB> QueryFragment<DB> for Reused<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Reused<Q> {
    type QueryId = ();
    // The cache is then keyed by the statement's text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Reused<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Reused<Q> {}

/// `values` lengthened to the next power of two by repeating its last value, so that `IN` lists
/// of any length up to `n` take one of log2(n) + 1 statement shapes. A repeated value in an `IN`
/// list selects nothing twice.
pub(crate) fn padded(mut values: Vec<String>) -> Vec<String> {
    if let Some(last) = values.last().cloned() {
        values.resize(values.len().next_power_of_two(), last);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::padded;

    #[test]
    fn in_lists_take_power_of_two_lengths_of_the_same_values() {
        let of = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert!(padded(Vec::new()).is_empty());
        assert_eq!(padded(of(1)), of(1));
        assert_eq!(padded(of(3)), vec!["0", "1", "2", "2"]);
        assert_eq!(padded(of(5)).len(), 8);
        assert_eq!(padded(of(500)).len(), 512);
    }
}
