//! The statements of [`OneRead`](crate::one_read::OneRead) on PostgreSQL: a call of a function
//! that sets the workspace's scope for its own read, then reads one live user with its groups,
//! in the columns `(UserRow, GroupsJson)` select.

use std::marker::PhantomData;

use diesel::expression::Expression;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl, Selectable, sql_types};

use super::UserRow;

/// A function of the database that reads one live user of a workspace by a key.
pub(super) trait UserFunction: 'static {
    const NAME: &'static str;
}

/// `scim_live_user_by_id(workspace, id)`.
pub(super) struct ById;

impl UserFunction for ById {
    const NAME: &'static str = "scim_live_user_by_id";
}

/// `scim_live_user_by_user_name_key(workspace, key)`.
pub(super) struct ByUserNameKey;

impl UserFunction for ByUserNameKey {
    const NAME: &'static str = "scim_live_user_by_user_name_key";
}

/// `SELECT * FROM <function>($1, $2)`: its text is fixed per function, so the statement is
/// prepared once per connection and kept.
pub(super) struct Call<F> {
    workspace: String,
    wanted: String,
    function: PhantomData<F>,
}

impl<F: UserFunction> Call<F> {
    pub(super) fn new(workspace: String, wanted: String) -> Call<F> {
        Call {
            workspace,
            wanted,
            function: PhantomData,
        }
    }
}

impl<F: UserFunction> QueryId for Call<F> {
    type QueryId = F;
    const HAS_STATIC_QUERY_ID: bool = true;
}

type UserColumns = <<UserRow as Selectable<Pg>>::SelectExpression as Expression>::SqlType;

impl<F: UserFunction> Query for Call<F> {
    type SqlType = (UserColumns, sql_types::Text);
}

impl<F: UserFunction> QueryFragment<Pg> for Call<F> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT * FROM ");
        out.push_sql(F::NAME);
        out.push_sql("(");
        out.push_bind_param::<sql_types::Text, _>(&self.workspace)?;
        out.push_sql(", ");
        out.push_bind_param::<sql_types::Text, _>(&self.wanted)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<F: UserFunction> RunQueryDsl<diesel::PgConnection> for Call<F> {}
