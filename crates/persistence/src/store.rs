//! The pool and the one way into tenant data: a transaction opened for one workspace.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use webwork_scim_domain::WorkspaceId;

use crate::db::{self, DatabaseUrl, DbConnection, Pool, PoolSettings};
use crate::{Backend, StoreError};

/// Whether a transaction only reads or also writes. Writes on SQLite begin `IMMEDIATE`, taking
/// the write lock up front, so that two writers never deadlock upgrading from a read lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The pool of connections to one database.
/// Called with how long each checkout waited for a pooled connection.
pub type WaitObserver = Arc<dyn Fn(Duration) + Send + Sync>;

#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    wait_observer: Option<WaitObserver>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// An open transaction for one workspace. Repository functions of tenant data take it, and
/// every query they run is scoped to [`TenantTx::workspace`].
pub struct TenantTx<'c> {
    conn: &'c mut DbConnection,
    workspace: WorkspaceId,
}

impl std::fmt::Debug for TenantTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantTx")
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

impl TenantTx<'_> {
    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    pub(crate) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// The raw connection, for tests that check what the database itself enforces (row-level
    /// security applies to it on PostgreSQL).
    #[cfg(feature = "testing")]
    pub fn connection(&mut self) -> &mut DbConnection {
        self.conn
    }

    pub(crate) fn parts(&mut self) -> (&mut DbConnection, WorkspaceId) {
        (self.conn, self.workspace)
    }
}

impl Store {
    pub fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Store, StoreError> {
        Ok(Store {
            pool: db::build_pool(url, settings)?,
            backend: url.backend(),
            wait_observer: None,
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

    /// A connection outside any transaction, for migrations and checks.
    pub fn connection(&self) -> Result<db::PooledConnection, StoreError> {
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

    /// A pooled connection, its wait reported to the observer.
    fn checkout(&self) -> Result<db::PooledConnection, StoreError> {
        let started = Instant::now();
        let conn = self.pool.get();
        if let Some(observe) = &self.wait_observer {
            observe(started.elapsed());
        }
        conn.map_err(|err| StoreError::from_checkout(err, self.pool.state().connections))
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
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
        let mut conn = self.checkout()?;
        let begin = begin_sql(conn.backend(), access, Some(workspace));
        in_transaction(&mut conn, begin, |conn| {
            f(&mut TenantTx { conn, workspace })
        })
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

    /// Runs `f` in a transaction of the outbox delivery worker: on PostgreSQL it may see every
    /// workspace's outbox events (and, by row-level security, no other tenant data).
    pub fn outbox<R, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<R, E>) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.checkout()?;
        let begin = match conn.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE".to_owned(),
            Backend::Postgres => {
                "BEGIN; SELECT set_config('app.scope', 'outbox-delivery', true)".to_owned()
            }
        };
        in_transaction(&mut conn, begin, f)
    }

    /// Runs `f` in a transaction that belongs to no workspace: workspace administration and the
    /// look-ups of [`crate::unscoped`].
    pub fn unscoped<R, E>(
        &self,
        access: Access,
        f: impl FnOnce(&mut DbConnection) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.checkout()?;
        let begin = begin_sql(conn.backend(), access, None);
        in_transaction(&mut conn, begin, f)
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
                Access::Read => "BEGIN READ ONLY",
                Access::Write => "BEGIN",
            };
            match workspace {
                Some(ws) => format!(
                    "{mode}; SELECT set_config('app.workspace_id', '{}', true)",
                    ws.as_uuid().as_hyphenated()
                ),
                None => mode.into(),
            }
        }
    }
}

type Tm = <DbConnection as Connection>::TransactionManager;

fn in_transaction<R, E>(
    conn: &mut DbConnection,
    begin: String,
    f: impl FnOnce(&mut DbConnection) -> Result<R, E>,
) -> Result<R, E>
where
    E: From<StoreError>,
{
    let begun = match conn {
        DbConnection::Postgres(pg) => AnsiTransactionManager::begin_transaction_sql(pg, &begin),
        DbConnection::Sqlite(lite) => AnsiTransactionManager::begin_transaction_sql(lite, &begin),
    };
    begun.map_err(StoreError::from)?;
    // If `f` panics the connection goes back to the pool inside a transaction; r2d2 then drops
    // it as broken, so the half-done work is rolled back by the database.
    match f(conn) {
        Ok(value) => match Tm::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(err) => {
                let _ = Tm::rollback_transaction(conn);
                Err(StoreError::from(err).into())
            }
        },
        Err(err) => {
            if let Err(rollback) = Tm::rollback_transaction(conn) {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}
