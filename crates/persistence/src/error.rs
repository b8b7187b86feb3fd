//! The one error type of the storage layer.

use webwork_scim_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time: the database is down or the pool is exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(#[from] r2d2::Error),
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
    /// A rule of the domain refused the change; the transaction was rolled back.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A stored value could not be read back (a bad id or JSON in a row).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Config(String),
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
            other => StoreError::Query(other),
        }
    }
}
