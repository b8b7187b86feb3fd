//! The one error type of the storage layer.

use webwork_scim_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be opened: the database is down or unreachable.
    #[error("database unavailable: {0}")]
    Unavailable(r2d2::Error),
    /// Every pooled connection stayed busy until the checkout timed out: the database is up but
    /// this replica is saturated.
    #[error("no database connection free in time")]
    PoolExhausted,
    /// The database went away under an open connection; like [`StoreError::Unavailable`], the
    /// client should retry.
    #[error("database connection lost: {0}")]
    Disconnected(String),
    /// A unique index refused the row (a `userName` taken in this workspace, say).
    #[error("a unique constraint refused the change")]
    Conflict,
    /// The row changed since it was read (optimistic concurrency).
    #[error("the row changed concurrently")]
    Concurrent,
    /// SQLite's busy timeout ran out: another process held the write lock. Nothing was written
    /// and a retry will do.
    #[error("the database stayed locked by another writer")]
    Locked,
    /// A rule of the domain refused the change; the transaction was rolled back.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A stored value could not be read back (a bad id or JSON in a row).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    /// The database, or the disk under it, has no room left for the change (SQLite's
    /// SQLITE_FULL, PostgreSQL's `disk_full`): nothing was written, and nothing more will be
    /// until an operator makes room.
    #[error("the database has no room left: {0}")]
    Full(String),
    /// The transaction a change shared with others could not commit: none of them was written.
    #[error("the transaction was rolled back: {0}")]
    RolledBack(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Config(String),
}

impl StoreError {
    /// A timed-out checkout: the database is unreachable when r2d2 saw a connection fail or the
    /// pool holds no connection at all; otherwise every connection is merely busy.
    pub(crate) fn from_checkout(err: r2d2::Error, open_connections: u32) -> StoreError {
        if err.to_string().contains(": ") || open_connections == 0 {
            StoreError::Unavailable(err)
        } else {
            StoreError::PoolExhausted
        }
    }
}

impl StoreError {
    /// The same failure for another change of one shared transaction.
    pub(crate) fn echo(&self) -> StoreError {
        match self {
            StoreError::PoolExhausted => StoreError::PoolExhausted,
            StoreError::Locked => StoreError::Locked,
            StoreError::Concurrent => StoreError::Concurrent,
            StoreError::Disconnected(cause) => StoreError::Disconnected(cause.clone()),
            StoreError::Full(cause) => StoreError::Full(cause.clone()),
            StoreError::Unavailable(cause) => StoreError::Disconnected(cause.to_string()),
            StoreError::RolledBack(cause) => StoreError::RolledBack(cause.clone()),
            other => StoreError::RolledBack(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict,
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::Disconnected(info.message().to_owned()),
            // Two transactions locked the same rows in opposite orders (PostgreSQL aborts one),
            // or a serialisation check failed: the change did not happen and may be retried.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                StoreError::Concurrent
            }
            Error::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
                StoreError::Concurrent
            }
            // SQLITE_BUSY and SQLITE_LOCKED, whose texts are all diesel passes on.
            Error::DatabaseError(_, info)
                if info.message().starts_with("database is locked")
                    || info.message().starts_with("database table is locked") =>
            {
                StoreError::Locked
            }
            Error::DatabaseError(_, info)
                if info.message().starts_with("database or disk is full")
                    || info.message().contains("No space left on device") =>
            {
                StoreError::Full(info.message().to_owned())
            }
            other => StoreError::Query(other),
        }
    }
}
