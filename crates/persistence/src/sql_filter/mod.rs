//! SCIM filters (RFC 7644 §3.4.2.2) as SQL conditions, for every attribute of a resource.
//!
//! Attributes with a column compare there (and use its index); every other attribute is read
//! from the folded document with the database's JSON functions (`json_extract`/`json_each` on
//! SQLite, `jsonb` operators on PostgreSQL), and a membership through its table. The condition is
//! exact: it selects what the in-memory matcher would, so no row is checked afterwards and no
//! filter is refused for the attribute it names. Strings that ignore case are compared folded on
//! both sides; ordering compares code points (`COLLATE "C"` on PostgreSQL, SQLite's binary
//! collation), as Rust's strings do.
//!
//! Every condition is `true` or `false`, never SQL `NULL`, so that `not` is the complement.

mod compile;
mod fragment;
mod json;
mod memberships;

pub(crate) use compile::{
    Leaf, Resolve, Source, compile, nested_value_path, sought, sub_attribute,
};
pub(crate) use fragment::Sql;
pub(crate) use json::{JsonDocument, Operand};
pub(crate) use memberships::Memberships;

/// The SQL dialect a condition is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The JSON type name of a string.
    fn text_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "'text'",
            Dialect::Postgres => "'string'",
        }
    }

    fn falsity(self) -> &'static str {
        match self {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "false",
        }
    }

    /// `expression` ordered by code points.
    fn binary(self, expression: &str) -> String {
        match self {
            Dialect::Sqlite => expression.to_owned(),
            Dialect::Postgres => format!("({expression}) COLLATE \"C\""),
        }
    }
}

/// On PostgreSQL, plans the transaction's statements from here on for the values they run with
/// (one round trip): a read otherwise reuses one plan per statement (`store::begin_sql`), and a
/// filter's best plan depends on its values (how many users a prefix, an email or a time
/// selects).
pub(crate) fn plan_for_values(tx: &mut crate::TenantTx<'_>) -> Result<(), crate::StoreError> {
    if tx.is_postgres() {
        tx.run_fixed("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")?;
    }
    Ok(())
}

/// The order by id of a page whose filter is `condition`, where it is not the column itself
/// (`id` is `"users.id"` or `"groups.id"`): on SQLite, where the filter seeks an index
/// ([`Sql::seeks`]), `+id`, which no index serves. Without statistics on how few rows such a
/// term selects, SQLite would walk every row of the workspace in id order to save sorting a
/// handful.
pub(crate) fn seeking_id_order(
    dialect: Dialect,
    condition: Option<&Sql>,
    id: &'static str,
) -> Option<diesel::expression::SqlLiteral<diesel::sql_types::Text>> {
    let seeks = dialect == Dialect::Sqlite && condition.is_some_and(|c| c.seeks);
    seeks.then(|| diesel::dsl::sql(&format!("+{id}")))
}
