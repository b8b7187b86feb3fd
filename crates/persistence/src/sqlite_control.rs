//! SQLite's transaction control (`BEGIN`, `COMMIT`, savepoints) as statements each connection
//! prepares once and then reuses.
//!
//! diesel's transaction manager sends these through `sqlite3_exec`, which parses the text again
//! every time: a tenth of the work of a read by key. Here they run as cached statements, and
//! diesel's manager is told of the transaction, so that a transaction nested inside still
//! becomes a savepoint of it.

use diesel::connection::{
    AnsiTransactionManager, TransactionDepthChange, TransactionManager, TransactionManagerStatus,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryResult, RunQueryDsl};

/// A statement of fixed text, prepared on its first run on a connection and cached by its text.
#[derive(Debug, Clone, Copy)]
struct Control<'a>(&'a str);

impl QueryId for Control<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Sqlite> for Control<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for Control<'_> {}

/// Runs `sql`, one statement of transaction control, through the connection's statement cache.
pub(crate) fn run(conn: &mut SqliteConnection, sql: &str) -> QueryResult<()> {
    Control(sql).execute(conn).map(drop)
}

/// How deep diesel's manager believes the connection's transactions are nested.
fn depth(conn: &mut SqliteConnection) -> QueryResult<Option<u32>> {
    match AnsiTransactionManager::transaction_manager_status_mut(conn) {
        TransactionManagerStatus::Valid(valid) => {
            Ok(valid.transaction_depth().map(std::num::NonZeroU32::get))
        }
        TransactionManagerStatus::InError => Err(Error::BrokenTransactionManager),
    }
}

fn change_depth(conn: &mut SqliteConnection, change: TransactionDepthChange) -> QueryResult<()> {
    match AnsiTransactionManager::transaction_manager_status_mut(conn) {
        TransactionManagerStatus::Valid(valid) => valid.change_transaction_depth(change),
        TransactionManagerStatus::InError => Err(Error::BrokenTransactionManager),
    }
}

/// Opens the connection's transaction with `begin` (`BEGIN DEFERRED` or `BEGIN IMMEDIATE`).
pub(crate) fn begin(conn: &mut SqliteConnection, begin: &str) -> QueryResult<()> {
    if depth(conn)?.is_some() {
        return Err(Error::AlreadyInTransaction);
    }
    run(conn, begin)?;
    change_depth(conn, TransactionDepthChange::IncreaseDepth)
}

/// Commits the transaction [`begin`] opened. A `COMMIT` that fails leaves SQLite's transaction
/// open (a busy database, say): it is rolled back, as diesel's own commit does, and the
/// commit's error returned.
pub(crate) fn commit(conn: &mut SqliteConnection) -> QueryResult<()> {
    if depth(conn)? != Some(1) {
        // Not a transaction of ours at its top level: diesel's manager knows what to release.
        return AnsiTransactionManager::commit_transaction(conn);
    }
    match run(conn, "COMMIT") {
        Ok(()) => match change_depth(conn, TransactionDepthChange::DecreaseDepth) {
            // The connection may have seen the transaction end already.
            Ok(()) | Err(Error::NotInTransaction) => Ok(()),
            Err(err) => Err(err),
        },
        Err(commit_error) => match roll_back(conn) {
            Ok(()) => Err(commit_error),
            Err(rollback_error) => {
                AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
                Err(Error::RollbackErrorOnCommit {
                    rollback_error: Box::new(rollback_error),
                    commit_error: Box::new(commit_error),
                })
            }
        },
    }
}

/// Rolls the connection's transaction back; `Ok` when the connection is then outside any.
///
/// SQLite rolls a whole transaction back by itself on some errors (a full disk, an I/O error):
/// a `COMMIT` or `RELEASE` that failed so leaves no transaction, while diesel's manager, which
/// learns of that only from statements it sends through `sqlite3_exec`, still counts one. Its
/// `ROLLBACK` then fails finding none and puts its count right: the state wanted, not a broken
/// connection.
pub(crate) fn roll_back(conn: &mut SqliteConnection) -> QueryResult<()> {
    match AnsiTransactionManager::rollback_transaction(conn) {
        Ok(()) | Err(Error::NotInTransaction) => Ok(()),
        Err(err) => match depth(conn) {
            Ok(None) => Ok(()),
            _ => Err(err),
        },
    }
}
