//! The one way a repository reaches tenant rows. A [`TenantTx`] is a transaction opened for one
//! workspace; it hands out each tenant table's base query already filtered by that workspace
//! ([`Scoped`]), and runs only such queries. Repositories never hold its connection, so a query
//! that forgets the workspace cannot be written: a refinement may add conditions, an order or a
//! window (`or_filter`, which could widen it, is refused by clippy), but never drop the filter.

use diesel::dsl::{self, Eq, Limit};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::query_builder::{AsChangeset, AsQuery, IntoUpdateTarget};
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{ExecuteDsl, LimitDsl};
use diesel::sqlite::SqliteConnection;
use webwork_scim_domain::WorkspaceId;

use crate::StoreError;
use crate::db::DbConnection;
use crate::reused::Reused;
use crate::schema::{
    audit_events, group_members, groups, outbox_events, provisioning_errors, scim_tokens, users,
    workspaces,
};
use crate::users::PageStarts;

/// Runs `$run` with `$conn` bound to the backend's own connection, PostgreSQL's or SQLite's. A
/// statement of a fixed shape is then found in that connection's cache by its type; through the
/// derived connection enum its SQL is written out again, several times, on every run.
macro_rules! on_backend {
    ($db:expr, |$conn:ident| $run:expr) => {
        match $db {
            $crate::db::DbConnection::Postgres($conn) => $run,
            $crate::db::DbConnection::Sqlite($conn) => $run,
        }
    };
}
pub(crate) use on_backend;

/// An open transaction for one workspace. Repository functions of tenant data take it, and
/// every query they run starts from one of its scoped base queries.
pub struct TenantTx<'c> {
    conn: &'c mut DbConnection,
    workspace: WorkspaceId,
    /// The workspace id as stored, made once per transaction.
    key: String,
    /// Where deep pages of users start, kept by the store between transactions.
    page_starts: Option<&'c PageStarts>,
}

impl std::fmt::Debug for TenantTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantTx")
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

/// A query that starts from a tenant table filtered by the transaction's workspace.
#[derive(Debug, Clone)]
#[must_use = "a scoped query does nothing until a transaction runs it"]
pub(crate) struct Scoped<Q>(Q);

impl<Q> Scoped<Q> {
    /// Narrows, orders, windows or selects: whatever `refine` does to the query, it keeps the
    /// workspace filter it started from.
    pub(crate) fn refine<R>(self, refine: impl FnOnce(Q) -> R) -> Scoped<R> {
        Scoped(refine(self.0))
    }

    /// The query itself, to nest inside another query of the same transaction (it keeps the
    /// workspace filter it started from).
    pub(crate) fn nested(self) -> Q {
        self.0
    }
}

/// `table.filter(table.workspace_id.eq(…))`, the base of every scoped query of `table`.
pub(crate) type Base<T, C> = dsl::Filter<T, Eq<C, String>>;

macro_rules! base_queries {
    ($($method:ident => $table:ident),* $(,)?) => {
        impl TenantTx<'_> {
            $(
                pub(crate) fn $method(&self) -> Scoped<Base<$table::table, $table::workspace_id>> {
                    Scoped($table::table.filter($table::workspace_id.eq(self.key.clone())))
                }
            )*
        }
    };
}

base_queries! {
    users => users,
    groups => groups,
    members => group_members,
    tokens => scim_tokens,
    audit_events => audit_events,
    provisioning_errors => provisioning_errors,
    outbox => outbox_events,
}

/// How [`TenantTx::lock_users`] locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockMode {
    Exclusive,
    Shared,
}

impl<'c> TenantTx<'c> {
    pub(crate) fn new(conn: &'c mut DbConnection, workspace: WorkspaceId) -> TenantTx<'c> {
        TenantTx {
            conn,
            workspace,
            key: workspace.to_string(),
            page_starts: None,
        }
    }

    /// The transaction, finding deep pages of users from the starts `page_starts` keeps.
    pub(crate) fn with_page_starts(mut self, page_starts: &'c PageStarts) -> TenantTx<'c> {
        self.page_starts = Some(page_starts);
        self
    }

    pub(crate) fn page_starts(&self) -> Option<&'c PageStarts> {
        self.page_starts
    }

    /// Whether the transaction runs on PostgreSQL (else SQLite), for the few expressions whose
    /// SQL differs.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.conn, DbConnection::Postgres(_))
    }

    /// The dialect filters are written in for this connection.
    pub(crate) fn dialect(&self) -> crate::sql_filter::Dialect {
        if self.is_postgres() {
            crate::sql_filter::Dialect::Postgres
        } else {
            crate::sql_filter::Dialect::Sqlite
        }
    }

    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    /// Runs `f` in a savepoint of this transaction: an `Err` from `f` undoes what it wrote and,
    /// on PostgreSQL, gives back the row locks it took, while the transaction goes on.
    pub fn savepoint<R, E>(
        &mut self,
        f: impl FnOnce(&mut TenantTx<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let (workspace, page_starts) = (self.workspace, self.page_starts);
        let mut failed = None;
        let outcome = self.conn.transaction(|conn| {
            let mut tx = TenantTx::new(conn, workspace);
            tx.page_starts = page_starts;
            f(&mut tx).map_err(|err| {
                failed = Some(err);
                diesel::result::Error::RollbackTransaction
            })
        });
        match (outcome, failed) {
            (Ok(value), _) => Ok(value),
            (Err(diesel::result::Error::RollbackTransaction), Some(err)) => Err(err),
            // The savepoint could not be released or rolled back: the transaction is lost.
            (Err(err), _) => Err(StoreError::from(err).into()),
        }
    }

    /// Runs a fixed statement of the service's own (a transaction-local setting) in one round
    /// trip, its result unread.
    pub(crate) fn run_fixed(&mut self, sql: &'static str) -> Result<(), StoreError> {
        use diesel::connection::SimpleConnection;
        Ok(self.conn.batch_execute(sql)?)
    }

    /// Runs `sql` as it stands, for tests of what the database itself does.
    #[cfg(feature = "testing")]
    pub fn run_sql(&mut self, sql: &str) -> Result<(), StoreError> {
        use diesel::connection::SimpleConnection;
        Ok(self.conn.batch_execute(sql)?)
    }

    /// The live (not deleted) users of the workspace.
    pub(crate) fn live_users(
        &self,
    ) -> Scoped<dsl::Filter<Base<users::table, users::workspace_id>, dsl::IsNull<users::deleted_at>>>
    {
        self.users()
            .refine(|q| q.filter(users::deleted_at.is_null()))
    }

    /// The workspace's own row (the `workspaces` table is keyed by id, not by a workspace
    /// column).
    pub(crate) fn workspace_row(
        &self,
    ) -> Scoped<dsl::Filter<workspaces::table, Eq<workspaces::id, String>>> {
        Scoped(workspaces::table.filter(workspaces::id.eq(self.key.clone())))
    }

    /// Member rows joined to their users, both in the workspace.
    pub(crate) fn members_with_users(&self) -> Scoped<MembersWithUsers> {
        Scoped(
            group_members::table
                .inner_join(
                    users::table.on(users::workspace_id
                        .eq(group_members::workspace_id)
                        .and(users::id.eq(group_members::user_id))),
                )
                .filter(group_members::workspace_id.eq(self.key.clone())),
        )
    }

    /// Member rows joined to their groups, both in the workspace.
    pub(crate) fn members_with_groups(&self) -> Scoped<MembersWithGroups> {
        Scoped(
            group_members::table
                .inner_join(
                    groups::table.on(groups::workspace_id
                        .eq(group_members::workspace_id)
                        .and(groups::id.eq(group_members::group_id))),
                )
                .filter(group_members::workspace_id.eq(self.key.clone())),
        )
    }

    /// Every row the query selects. The query goes to the backend's own connection as diesel
    /// built it: a statement of a fixed shape is then found in the connection's cache by its type,
    /// without writing its SQL out again (through the connection enum, every run rewrites the
    /// SQL, several times). Queries boxed for both backends take [`TenantTx::load_boxed`].
    pub(crate) fn load<U, Q>(&mut self, query: Scoped<Q>) -> Result<Vec<U>, StoreError>
    where
        Q: RunQueryDsl<PgConnection> + RunQueryDsl<SqliteConnection>,
        Q: LoadQuery<'static, PgConnection, U> + LoadQuery<'static, SqliteConnection, U>,
    {
        Ok(on_backend!(&mut *self.conn, |conn| query.0.load(conn))?)
    }

    /// The first row the query selects, if any (see [`TenantTx::load`]).
    pub(crate) fn first<U, Q>(&mut self, query: Scoped<Q>) -> Result<Option<U>, StoreError>
    where
        Q: RunQueryDsl<PgConnection> + RunQueryDsl<SqliteConnection> + LimitDsl,
        Limit<Q>: LoadQuery<'static, PgConnection, U> + LoadQuery<'static, SqliteConnection, U>,
    {
        Ok(on_backend!(&mut *self.conn, |conn| query.0.first(conn)).optional()?)
    }

    /// The one row the query selects (a count, say; see [`TenantTx::load`]).
    pub(crate) fn get<U, Q>(&mut self, query: Scoped<Q>) -> Result<U, StoreError>
    where
        Q: RunQueryDsl<PgConnection> + RunQueryDsl<SqliteConnection>,
        Q: LoadQuery<'static, PgConnection, U> + LoadQuery<'static, SqliteConnection, U>,
    {
        let query = query.0;
        Ok(on_backend!(&mut *self.conn, |conn| query.get_result(conn))?)
    }

    /// Runs the query as each backend needs it run: `run` gets the query, still filtered by the
    /// workspace, and the backend's own connection (for a lock only PostgreSQL takes, say).
    pub(crate) fn run_per_backend<Q, R>(
        &mut self,
        query: Scoped<Q>,
        run: impl FnOnce(Q, &mut DbConnection) -> diesel::QueryResult<R>,
    ) -> Result<R, StoreError> {
        Ok(run(query.0, self.conn)?)
    }

    /// Every row a query boxed for both backends selects (filters and sorts built at run time).
    pub(crate) fn load_boxed<U, Q>(&mut self, query: Scoped<Q>) -> Result<Vec<U>, StoreError>
    where
        Q: RunQueryDsl<DbConnection> + LoadQuery<'static, DbConnection, U>,
    {
        Ok(query.0.load(self.conn)?)
    }

    /// The one row a query boxed for both backends selects.
    pub(crate) fn get_boxed<U, Q>(&mut self, query: Scoped<Q>) -> Result<U, StoreError>
    where
        Q: RunQueryDsl<DbConnection> + LoadQuery<'static, DbConnection, U>,
    {
        Ok(query.0.get_result(self.conn)?)
    }

    /// Locks the users `ids` of the workspace (those that exist), in id order so that two
    /// transactions locking several users never wait on each other in a cycle. `Shared` lets
    /// others read and share-lock them; a writer of them waits until this transaction ends.
    pub(crate) fn lock_users(
        &mut self,
        ids: &[String],
        mode: LockMode,
    ) -> Result<Vec<String>, StoreError> {
        let DbConnection::Postgres(pg) = self.conn else {
            return Ok(ids.to_vec());
        };
        let query = users::table
            .filter(users::workspace_id.eq(self.key.clone()))
            .filter(users::id.eq_any(ids))
            .order(users::id)
            .select(users::id);
        Ok(match mode {
            LockMode::Exclusive => query.for_update().load(pg)?,
            LockMode::Shared => query.for_share().load(pg)?,
        })
    }

    /// Locks group `id` of the workspace until the transaction ends.
    pub(crate) fn lock_group(&mut self, id: &str) -> Result<(), StoreError> {
        if let DbConnection::Postgres(pg) = self.conn {
            groups::table
                .filter(groups::workspace_id.eq(self.key.clone()))
                .filter(groups::id.eq(id))
                .select(groups::id)
                .for_update()
                .load::<String>(pg)?;
        }
        Ok(())
    }

    /// Locks token `id` of the workspace until the transaction ends.
    pub(crate) fn lock_token(&mut self, id: &str) -> Result<(), StoreError> {
        if let DbConnection::Postgres(pg) = self.conn {
            scim_tokens::table
                .filter(scim_tokens::workspace_id.eq(self.key.clone()))
                .filter(scim_tokens::id.eq(id))
                .select(scim_tokens::id)
                .for_update()
                .load::<String>(pg)?;
        }
        Ok(())
    }

    /// Applies `changes` to the rows the query selects; returns how many there were.
    pub(crate) fn update<'query, Q, V>(
        &mut self,
        target: Scoped<Q>,
        changes: V,
    ) -> Result<usize, StoreError>
    where
        Q: IntoUpdateTarget,
        Q::Table: Table,
        V: AsChangeset<Target = Q::Table>,
        dsl::Update<Q, V>: AsQuery,
        UpdateReturning<Q, V, diesel::expression::SqlLiteral<diesel::sql_types::Integer>>:
            LoadQuery<'query, PgConnection, i32> + LoadQuery<'query, SqliteConnection, i32>,
    {
        let counted = dsl::sql::<diesel::sql_types::Integer>("1");
        Ok(self
            .update_returning::<_, _, _, i32>(target, changes, counted)?
            .len())
    }

    /// Applies `changes` to the rows the query selects; returns `returning` of each row as
    /// changed.
    pub(crate) fn update_returning<'query, Q, V, S, R>(
        &mut self,
        target: Scoped<Q>,
        changes: V,
        returning: S,
    ) -> Result<Vec<R>, StoreError>
    where
        Q: IntoUpdateTarget,
        Q::Table: Table,
        V: AsChangeset<Target = Q::Table>,
        dsl::Update<Q, V>: AsQuery,
        dsl::Returning<dsl::Update<Q, V>, S>: diesel::query_builder::Query,
        UpdateReturning<Q, V, S>:
            LoadQuery<'query, PgConnection, R> + LoadQuery<'query, SqliteConnection, R>,
    {
        // Diesel never keeps an UPDATE prepared (a changeset that skips its `None` fields changes
        // the statement's text), and a statement it only executes reaches the statement cache by
        // reference, past `Reused`. Loaded, with a row returned per row changed, it is kept under
        // its text: each shape is prepared once per connection. It runs on the backend's own
        // connection, which writes the text out once to find it (see [`TenantTx::load`]).
        let update = Reused(diesel::update(target.0).set(changes).returning(returning));
        Ok(on_backend!(&mut *self.conn, |conn| update.load::<R>(conn))?)
    }

    /// Deletes the rows the query selects; returns how many there were.
    pub(crate) fn delete<Q>(&mut self, target: Scoped<Q>) -> Result<usize, StoreError>
    where
        Q: IntoUpdateTarget,
        diesel::query_builder::DeleteStatement<Q::Table, Q::WhereClause>:
            ExecuteDsl<PgConnection> + ExecuteDsl<SqliteConnection>,
    {
        let delete = diesel::delete(target.0);
        Ok(on_backend!(&mut *self.conn, |conn| delete.execute(conn))?)
    }

    /// The workspace id as stored, for the insert macros of [`crate::inserts`].
    #[doc(hidden)]
    pub(crate) fn workspace_text(&self) -> String {
        self.key.clone()
    }

    /// Runs an insert built by [`insert_row!`](crate::inserts::insert_row).
    #[doc(hidden)]
    pub(crate) fn run_insert<Q>(&mut self, insert: Q) -> Result<usize, StoreError>
    where
        Q: RunQueryDsl<PgConnection> + ExecuteDsl<PgConnection>,
        Q: RunQueryDsl<SqliteConnection> + ExecuteDsl<SqliteConnection>,
    {
        Ok(on_backend!(&mut *self.conn, |conn| insert.execute(conn))?)
    }

    /// Runs an insert built by
    /// [`insert_row_returning!`](crate::inserts::insert_row_returning); the row it returns.
    #[doc(hidden)]
    pub(crate) fn run_insert_returning<'query, Q, U>(&mut self, insert: Q) -> Result<U, StoreError>
    where
        Q: RunQueryDsl<PgConnection> + LoadQuery<'query, PgConnection, U>,
        Q: RunQueryDsl<SqliteConnection> + LoadQuery<'query, SqliteConnection, U>,
    {
        Ok(on_backend!(&mut *self.conn, |conn| insert.get_result(conn))?)
    }

    /// Runs an insert built by [`insert_rows!`](crate::inserts::insert_rows), or
    /// `outbox::enqueue_with_audit`'s statement, which differ per backend.
    #[doc(hidden)]
    pub(crate) fn run_backend_specific<R>(
        &mut self,
        run: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<R>,
    ) -> Result<R, StoreError> {
        Ok(run(self.conn)?)
    }

    /// The raw connection, for tests that check what the database itself enforces (row-level
    /// security applies to it on PostgreSQL).
    #[cfg(feature = "testing")]
    pub fn connection(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// The columns `T` reads, for a query either backend runs as it stands (`T::as_select()` would
/// tie the query to one backend). `T` loads from them by position.
pub(crate) fn columns<T: Selectable<diesel::sqlite::Sqlite>>() -> T::SelectExpression {
    T::construct_selection()
}

/// An UPDATE that returns `S` of each row it changed, kept in the statement cache.
pub(crate) type UpdateReturning<Q, V, S> = Reused<dsl::Returning<dsl::Update<Q, V>, S>>;

type MembersWithUsers = dsl::Filter<
    diesel::dsl::InnerJoinOn<
        group_members::table,
        users::table,
        diesel::dsl::And<
            Eq<users::workspace_id, group_members::workspace_id>,
            Eq<users::id, group_members::user_id>,
        >,
    >,
    Eq<group_members::workspace_id, String>,
>;

type MembersWithGroups = dsl::Filter<
    diesel::dsl::InnerJoinOn<
        group_members::table,
        groups::table,
        diesel::dsl::And<
            Eq<groups::workspace_id, group_members::workspace_id>,
            Eq<groups::id, group_members::group_id>,
        >,
    >,
    Eq<group_members::workspace_id, String>,
>;
