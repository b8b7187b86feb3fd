//! SQLite's writing thread: the identity providers' changes of every workspace, run one after
//! another on one connection and committed together.
//!
//! SQLite lets one writer in at a time, and committing costs more than most changes it
//! commits: every page a transaction touched is appended to the write-ahead log, and every other
//! connection drops its page cache. Handing the write lock from thread to thread also makes each
//! change wait for a sleeping thread to be scheduled. Here the changes queue for one thread,
//! which runs every change waiting in one transaction, each inside a savepoint of its own:
//!
//! - a change that fails is rolled back to its savepoint and answered at once; the others go on;
//! - a change that succeeds is answered once the transaction has committed, never before, so an
//!   answer never reports a change that could still be lost; if the commit fails, every change of
//!   the transaction is answered with the failure and none is written;
//! - a change that waited longer than the pool's checkout timeout is answered as busy without
//!   running, as a saturated pool answers.
//!
//! The thread's connection is its own, beside the pool, and keeps its page cache and prepared
//! statements from one transaction to the next; a second thread copies its write-ahead log into
//! the database file ([`sqlite_checkpoint`]). It takes its turn in the process's
//! [`WriterQueue`] for each transaction, so the writes that still run on pooled connections
//! (administration, the outbox, a token's last use, the failed-request log) take the database one
//! at a time with it. A connection that fails to begin or to roll back ends the thread; the next
//! change starts another.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use tokio::sync::oneshot;
use webwork_scim_domain::WorkspaceId;

use crate::db::{ConnectionManager, DbConnection};
use crate::scope::TenantTx;
use crate::writer_queue::WriterQueue;
use crate::{StoreError, sqlite_checkpoint, sqlite_control, store};

/// The most changes one transaction commits: a bound on how long the first waits for the last.
const MAX_BATCH: usize = 64;

/// What a change's caller receives: its result, or the panic it raised (resumed by the caller).
pub type Outcome<R, E> = Result<Result<R, E>, Box<dyn Any + Send>>;

/// Answers a change that succeeded, once its transaction's commit is known.
type Answer = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A queued change: run on the writer's connection inside the open transaction, or refused with
/// an error without running. `Ok(Some(answer))` when it succeeded and waits for the commit;
/// `Ok(None)` when it was answered already (it failed, or was refused); `Err` when the
/// transaction can no longer be trusted and must be rolled back whole.
type Work = Box<
    dyn FnOnce(Result<&mut DbConnection, StoreError>) -> Result<Option<Answer>, StoreError> + Send,
>;

struct Job {
    queued: Instant,
    work: Work,
}

/// The handle of the writing thread, started with the store and again after it ended.
#[derive(Debug)]
pub(crate) struct SqliteWriter {
    manager: ConnectionManager,
    writers: Arc<WriterQueue>,
    patience: Duration,
    jobs: Mutex<Option<Sender<Job>>>,
    /// Changes submitted that the thread has not started yet.
    waiting: Arc<AtomicUsize>,
}

/// Counts one change as waiting until its work starts (or is dropped unrun).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SqliteWriter {
    pub(crate) fn new(
        manager: ConnectionManager,
        writers: Arc<WriterQueue>,
        patience: Duration,
    ) -> SqliteWriter {
        SqliteWriter {
            manager,
            writers,
            patience,
            jobs: Mutex::new(None),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many submitted changes wait for the thread to start them.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Queues `f` to run in a transaction scoped to `workspace`; the receiver answers once it
    /// has been committed, rolled back or refused.
    pub(crate) fn submit<R, E, F>(
        &self,
        workspace: WorkspaceId,
        f: F,
    ) -> Result<oneshot::Receiver<Outcome<R, E>>, StoreError>
    where
        F: FnOnce(&mut TenantTx<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let waiting = Waiting(self.waiting.clone());
        let work: Work = Box::new(move |conn| {
            drop(waiting);
            let conn = match conn {
                Ok(conn) => conn,
                Err(refused) => {
                    let _ = reply.send(Ok(Err(E::from(refused))));
                    return Ok(None);
                }
            };
            let _entered = span.enter();
            if let Err(err) = savepoint(conn, "SAVEPOINT scim_change") {
                let _ = reply.send(Ok(Err(E::from(StoreError::from(err)))));
                return Err(StoreError::RolledBack(
                    "a savepoint could not be opened".into(),
                ));
            }
            let ran = catch_unwind(AssertUnwindSafe(|| f(&mut TenantTx::new(conn, workspace))));
            // Releasing the savepoint also proves the transaction is still open: SQLite rolls a
            // whole transaction back on some errors (a full disk, an I/O error), and its
            // savepoints go with it.
            match ran {
                Ok(Ok(value)) => match savepoint(conn, "RELEASE scim_change") {
                    Ok(()) => Ok(Some(Box::new(move |committed: Result<(), StoreError>| {
                        let _ = reply.send(Ok(committed.map(|()| value).map_err(E::from)));
                    }))),
                    Err(err) => {
                        let err = StoreError::from(err);
                        let broken = err.echo();
                        let _ = reply.send(Ok(Err(E::from(err))));
                        Err(broken)
                    }
                },
                Ok(Err(err)) => {
                    let undone = undo(conn);
                    let _ = reply.send(Ok(Err(err)));
                    undone.map(|()| None)
                }
                Err(panic) => {
                    let undone = undo(conn);
                    let _ = reply.send(Err(panic));
                    undone.map(|()| None)
                }
            }
        });
        self.send(Job {
            queued: Instant::now(),
            work,
        })?;
        Ok(answer)
    }

    /// Starts the writer and checkpoint threads unless they run: the pool's connections leave
    /// checkpoints to them from the start, whether or not a change has come yet.
    pub(crate) fn start_now(&self) -> Result<(), StoreError> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if jobs.is_none() {
            *jobs = Some(self.start()?);
        }
        Ok(())
    }

    /// Hands `job` to the thread, starting it (again, should it have ended) when needed.
    fn send(&self, job: Job) -> Result<(), StoreError> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let job = match jobs.as_ref() {
            Some(sender) => match sender.send(job) {
                Ok(()) => return Ok(()),
                Err(returned) => returned.0,
            },
            None => job,
        };
        let sender = self.start()?;
        sender
            .send(job)
            .map_err(|_| StoreError::Disconnected("the SQLite writer stopped".into()))?;
        *jobs = Some(sender);
        Ok(())
    }

    fn start(&self) -> Result<Sender<Job>, StoreError> {
        use r2d2::ManageConnection;
        let mut conn = self
            .manager
            .connect()
            .map_err(|err| StoreError::Disconnected(err.to_string()))?;
        let mut checkpoints = match self.manager.connect() {
            Ok(DbConnection::Sqlite(lite)) => lite,
            Ok(DbConnection::Postgres(_)) => {
                return Err(StoreError::Config("the writer thread is SQLite's".into()));
            }
            Err(err) => return Err(StoreError::Disconnected(err.to_string())),
        };
        // The checkpoint thread copies the log instead (sqlite_checkpoint). Each change's
        // savepoint keeps the pages it changes first in a journal of its own: in memory, not in
        // a temporary file. The one writer keeps the pages it changes in its cache (32 MiB), and
        // neither it nor the checkpoint thread reads through the memory map, which only the
        // readers gain by (a PATCH took 13 % more CPU with the writer reading through it).
        conn.batch_execute(
            "PRAGMA wal_autocheckpoint = 0;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -32768;
             PRAGMA mmap_size = 0;",
        )?;
        checkpoints.batch_execute("PRAGMA mmap_size = 0")?;
        let (sender, jobs) = std::sync::mpsc::channel();
        let (committed, commits) = std::sync::mpsc::sync_channel(1);
        let patience = self.patience;
        let writers = self.writers.clone();
        spawn("sqlite-checkpoint", move || {
            sqlite_checkpoint::serve(commits, checkpoints, &writers, patience);
        })?;
        let writers = self.writers.clone();
        spawn("sqlite-writer", move || {
            serve(jobs, conn, &writers, patience, &committed);
        })?;
        Ok(sender)
    }
}

fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(run)
        .map(drop)
        .map_err(|err| StoreError::Disconnected(format!("cannot start {name}: {err}")))
}

/// Opens or releases the savepoint of one change, a statement the connection prepared once.
fn savepoint(conn: &mut DbConnection, sql: &str) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(lite) => sqlite_control::run(lite, sql),
        DbConnection::Postgres(_) => conn.batch_execute(sql),
    }
}

/// Rolls the current change back to its savepoint; `Err` when the transaction is gone.
fn undo(conn: &mut DbConnection) -> Result<(), StoreError> {
    conn.batch_execute("ROLLBACK TO scim_change; RELEASE scim_change")
        .map_err(|err| StoreError::RolledBack(format!("a change could not be undone: {err}")))
}

/// The thread: until every handle is dropped, takes the changes waiting, runs them in one
/// transaction and answers them.
fn serve(
    jobs: Receiver<Job>,
    mut conn: DbConnection,
    writers: &WriterQueue,
    patience: Duration,
    checkpoint_due: &SyncSender<()>,
) {
    while let Ok(first) = jobs.recv() {
        let turn = match writers.wait_turn(patience) {
            Ok(turn) => turn,
            Err(busy) => {
                let _ = (first.work)(Err(busy));
                continue;
            }
        };
        let begun = match &mut conn {
            DbConnection::Sqlite(lite) => {
                sqlite_control::begin(lite, "BEGIN IMMEDIATE").map_err(StoreError::from)
            }
            DbConnection::Postgres(_) => Err(StoreError::Config("the writer is SQLite's".into())),
        };
        if let Err(err) = begun {
            // A connection that cannot begin may never again: the thread ends, the changes
            // queued behind are answered as disconnected, and the next change starts a new
            // thread on a new connection.
            let _ = (first.work)(Err(err));
            return;
        }
        let mut answers = Vec::new();
        let mut broken = None;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(job) = next.take() {
            taken += 1;
            let ran = if job.queued.elapsed() > patience {
                (job.work)(Err(StoreError::PoolExhausted))
            } else {
                (job.work)(Ok(&mut conn))
            };
            match ran {
                Ok(Some(answer)) => answers.push(answer),
                Ok(None) => {}
                Err(err) => {
                    broken = Some(err);
                    break;
                }
            }
            if taken < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        let committed = match broken {
            None => store::commit(&mut conn).map_err(StoreError::from),
            Some(err) => Err(err),
        };
        // A COMMIT that fails is rolled back already; a rollback then finds no transaction,
        // which is the state wanted, not a broken connection.
        let rolled_back = committed.is_ok() || store::roll_back(&mut conn).is_ok();
        drop(turn);
        if committed.is_ok() {
            // Full means a pass is due already.
            let _ = checkpoint_due.try_send(());
        }
        match committed {
            Ok(()) => answers.into_iter().for_each(|answer| answer(Ok(()))),
            Err(err) => answers
                .into_iter()
                .for_each(|answer| answer(Err(err.echo()))),
        }
        if !rolled_back {
            // The connection is left in an unknown state: start over on a new one (as above).
            tracing::warn!("the SQLite writer's rollback failed; it reconnects");
            return;
        }
    }
}
