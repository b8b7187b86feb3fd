//! The pool and the one way into tenant data: a transaction opened for one workspace.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use webwork_scim_domain::{Workspace, WorkspaceId, WorkspaceKey};

use crate::db::{self, DatabaseUrl, DbConnection, Pool, PoolSettings};
use crate::one_read::{OneRead, Way};
use crate::scope::TenantTx;
use crate::sqlite_writer::SqliteWriter;
use crate::users::PageStarts;
use crate::writer_queue::WriterQueue;
use crate::{Backend, StoreError, sqlite_control, workspaces};

/// Whether a transaction only reads or also writes. Writes on SQLite begin `IMMEDIATE`, taking
/// the write lock up front, so that two writers never deadlock upgrading from a read lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Called with how long each checkout waited for a pooled connection.
pub type WaitObserver = Arc<dyn Fn(Duration) + Send + Sync>;

/// The pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    wait_observer: Option<WaitObserver>,
    /// SQLite's writers, queued in this process in arrival order.
    writers: Arc<WriterQueue>,
    /// How long a writer waits for its turn before the request is answered as busy.
    writer_wait: Duration,
    /// SQLite's writing thread, which commits queued changes together.
    writer: Option<Arc<SqliteWriter>>,
    /// Where deep pages of each workspace's users start, for the listings of every transaction.
    page_starts: Arc<PageStarts>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Store, StoreError> {
        let writers = Arc::new(WriterQueue::default());
        let writer = match url.backend() {
            Backend::Sqlite => Some(Arc::new(SqliteWriter::new(
                db::manager(url, settings),
                writers.clone(),
                settings.connection_timeout,
            ))),
            Backend::Postgres => None,
        };
        let pool = db::build_pool(url, settings)?;
        if let Some(writer) = &writer {
            writer.start_now()?;
        }
        Ok(Store {
            pool,
            backend: url.backend(),
            wait_observer: None,
            writers,
            writer_wait: settings.connection_timeout,
            writer,
            page_starts: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.checkout()?;
        crate::migrations::run_pending(&mut conn)
    }

    /// Whether every migration this build knows has been applied.
    pub fn is_migrated(&self) -> Result<bool, StoreError> {
        let mut conn = self.checkout()?;
        crate::migrations::is_up_to_date(&mut conn)
    }

    /// A connection outside any transaction, for tests of what the database itself enforces
    /// (migrations going down and up, row-level security).
    #[cfg(feature = "testing")]
    pub fn raw_connection(&self) -> Result<db::PooledConnection, StoreError> {
        self.checkout()
    }

    /// Reports every checkout's wait to `observer` (a metric, say).
    pub fn with_wait_observer(mut self, observer: WaitObserver) -> Store {
        self.wait_observer = Some(observer);
        self
    }

    /// The most connections the pool opens.
    pub fn pool_max_size(&self) -> u32 {
        self.pool.max_size()
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    /// A pooled connection, its wait reported to the observer.
    fn checkout(&self) -> Result<db::PooledConnection, StoreError> {
        let started = Instant::now();
        let conn = self.pool.get();
        if let Some(observe) = &self.wait_observer {
            observe(started.elapsed());
        }
        conn.map_err(|err| StoreError::from_checkout(err, self.pool.state().connections))
    }

    /// Runs `f` with a connection in a transaction opened by `begin`. On SQLite a writer first
    /// waits for its turn in this process's queue, so that writers take the database one after
    /// another in the order they arrived instead of sleeping in SQLite's busy handler.
    fn transaction<R, E>(
        &self,
        access: Access,
        begin: impl FnOnce(Backend) -> String,
        f: impl FnOnce(&mut DbConnection) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let _turn = match (self.backend, access) {
            (Backend::Sqlite, Access::Write) => Some(self.writers.wait_turn(self.writer_wait)?),
            _ => None,
        };
        let mut conn = self.checkout()?;
        let begin = begin(conn.backend());
        in_transaction(&mut conn, &begin, f)
    }

    /// Runs `f` in a transaction scoped to `workspace`; commits when it returns `Ok`, rolls back
    /// otherwise. Blocking: call it from a blocking thread.
    pub fn tenant<R, E>(
        &self,
        workspace: WorkspaceId,
        access: Access,
        f: impl FnOnce(&mut TenantTx<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        self.transaction(
            access,
            |backend| begin_sql(backend, access, Some(workspace)),
            |conn| f(&mut self.tenant_tx(conn, workspace, access)),
        )
    }

    /// A transaction of `workspace` on `conn`. A read finds deep pages from the starts the
    /// store remembers: its statements share one snapshot, where a write's would see its own
    /// uncommitted changes (and, on PostgreSQL, each statement other transactions' commits).
    fn tenant_tx<'c>(
        &'c self,
        conn: &'c mut DbConnection,
        workspace: WorkspaceId,
        access: Access,
    ) -> TenantTx<'c> {
        let tx = TenantTx::new(conn, workspace);
        match access {
            Access::Read => tx.with_page_starts(&self.page_starts),
            Access::Write => tx,
        }
    }

    pub fn read<R, E>(
        &self,
        workspace: WorkspaceId,
        f: impl FnOnce(&mut TenantTx<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        self.tenant(workspace, Access::Read, f)
    }

    /// Runs `f`, a read of one statement, for `workspace`, outside any transaction: on
    /// PostgreSQL the statement scopes itself, on SQLite its workspace filter does (see
    /// [`OneRead`]).
    pub fn read_one<R, E>(
        &self,
        workspace: WorkspaceId,
        f: impl FnOnce(OneRead<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.checkout()?;
        let way = match &mut *conn {
            DbConnection::Postgres(pg) => Way::SelfScoped {
                pg,
                workspace: workspace.to_string(),
            },
            lite @ DbConnection::Sqlite(_) => Way::Filtered(TenantTx::new(lite, workspace)),
        };
        f(OneRead(way))
    }

    pub fn write<R, E>(
        &self,
        workspace: WorkspaceId,
        f: impl FnOnce(&mut TenantTx<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        self.tenant(workspace, Access::Write, f)
    }

    /// How many changes wait for SQLite's writer thread to start them (none on PostgreSQL).
    pub fn queued_changes(&self) -> usize {
        self.writer.as_ref().map_or(0, |writer| writer.waiting())
    }

    /// Whether [`Store::write_queued`] serves changes: on SQLite, whose one writer is a thread
    /// of its own.
    pub fn has_writer_thread(&self) -> bool {
        self.writer.is_some()
    }

    /// Runs `f` as [`Store::write`] does, without a blocking thread of the caller's: the change
    /// queues for SQLite's writing thread, which may commit it in one transaction with others
    /// queued beside it, each in a savepoint of its own; it is answered once committed. A panic
    /// in `f` is resumed here. Without a writer thread (PostgreSQL) the change is refused.
    pub async fn write_queued<R, E, F>(&self, workspace: WorkspaceId, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut TenantTx<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let Some(writer) = &self.writer else {
            return Err(StoreError::Config("this database has no writer thread".into()).into());
        };
        let answer = writer.submit(workspace, f)?;
        match answer.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(StoreError::Disconnected("the SQLite writer stopped".into()).into()),
        }
    }

    /// Runs `f` in one transaction scoped to the live workspace `key`, which it resolves first
    /// (the workspace as read then is `f`'s second argument); `None` when there is no such
    /// workspace. A use case that starts from a key reads, checks and writes in this one
    /// transaction.
    pub fn tenant_by_key<R, E>(
        &self,
        key: &WorkspaceKey,
        access: Access,
        f: impl FnOnce(&mut TenantTx<'_>, Workspace) -> Result<R, E>,
    ) -> Result<Option<R>, E>
    where
        E: From<StoreError>,
    {
        self.transaction(
            access,
            |backend| begin_sql(backend, access, None),
            |conn| {
                let Some(workspace) = workspaces::find_by_key(conn, key)? else {
                    return Ok(None);
                };
                scope_to(conn, workspace.id)?;
                f(&mut self.tenant_tx(conn, workspace.id, access), workspace).map(Some)
            },
        )
    }

    /// Runs `f` in a transaction of the outbox delivery worker: on PostgreSQL it may see every
    /// workspace's outbox events (and, by row-level security, no other tenant data).
    pub(crate) fn outbox<R, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        self.transaction(
            Access::Write,
            |backend| match backend {
                Backend::Sqlite => "BEGIN IMMEDIATE".to_owned(),
                Backend::Postgres => {
                    "BEGIN; SELECT set_config('app.scope', 'outbox-delivery', true)".to_owned()
                }
            },
            f,
        )
    }

    /// Runs `f` in a transaction that belongs to no workspace: the queries of
    /// [`crate::unscoped`] only.
    pub(crate) fn unscoped<R, E>(
        &self,
        access: Access,
        f: impl FnOnce(&mut DbConnection) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        self.transaction(access, |backend| begin_sql(backend, access, None), f)
    }
}

/// The statement that opens a transaction. On PostgreSQL it also sets `app.workspace_id` for
/// this transaction only, in the same round trip, so that row-level security policies can scope
/// every statement; the id is a UUID we generated, safe to inline.
fn begin_sql(backend: Backend, access: Access, workspace: Option<WorkspaceId>) -> String {
    match (backend, access) {
        (Backend::Sqlite, Access::Read) => "BEGIN DEFERRED".into(),
        (Backend::Sqlite, Access::Write) => "BEGIN IMMEDIATE".into(),
        (Backend::Postgres, access) => {
            let mode = match access {
                // One snapshot for every statement of a read: a listing's page, its total and
                // the stamp its remembered page starts are checked against agree. Its kept
                // statements are planned once per connection: PostgreSQL would otherwise plan a
                // page again at every run, its plans for the values at hand looking cheaper than
                // one for any LIMIT and OFFSET (Okta's credentials test: 5,644 against 9,872
                // requests/s). A listing with a filter plans for its values again
                // (`sql_filter::plan_for_values`).
                Access::Read => {
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                     SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"
                }
                Access::Write => "BEGIN",
            };
            match workspace {
                Some(ws) => format!("{mode}; {}", scope_sql(ws)),
                None => mode.into(),
            }
        }
    }
}

fn scope_sql(workspace: WorkspaceId) -> String {
    format!(
        "SELECT set_config('app.workspace_id', '{}', true)",
        workspace.as_uuid().as_hyphenated()
    )
}

/// Scopes an open transaction to `workspace` for row-level security (PostgreSQL only).
fn scope_to(conn: &mut DbConnection, workspace: WorkspaceId) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Postgres(pg) = conn {
        pg.batch_execute(&scope_sql(workspace))?;
    }
    Ok(())
}

type Tm = <DbConnection as Connection>::TransactionManager;

fn in_transaction<R, E>(
    conn: &mut DbConnection,
    begin: &str,
    f: impl FnOnce(&mut DbConnection) -> Result<R, E>,
) -> Result<R, E>
where
    E: From<StoreError>,
{
    let begun = match conn {
        DbConnection::Postgres(pg) => AnsiTransactionManager::begin_transaction_sql(pg, begin),
        DbConnection::Sqlite(lite) => sqlite_control::begin(lite, begin),
    };
    begun.map_err(StoreError::from)?;
    // If `f` panics the connection goes back to the pool inside a transaction; r2d2 then drops
    // it as broken, so the half-done work is rolled back by the database.
    match f(conn) {
        // A failed commit has rolled the transaction back already (see `commit`).
        Ok(value) => commit(conn)
            .map(|()| value)
            .map_err(|err| StoreError::from(err).into()),
        Err(err) => {
            if let Err(rollback) = roll_back(conn) {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}

/// Commits the connection's transaction (SQLite's with the statements it prepared once). A
/// `COMMIT` that fails is rolled back before the error returns, by diesel's manager on
/// PostgreSQL and by [`sqlite_control::commit`] on SQLite.
pub(crate) fn commit(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(lite) => sqlite_control::commit(lite),
        DbConnection::Postgres(_) => Tm::commit_transaction(conn),
    }
}

/// Rolls the connection's transaction back; `Ok` when none is left open, also when the
/// database had ended it already (a failed commit is rolled back by [`commit`]).
pub(crate) fn roll_back(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(lite) => sqlite_control::roll_back(lite),
        DbConnection::Postgres(_) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::NotInTransaction) => Ok(()),
            Err(err) => Err(err),
        },
    }
}
