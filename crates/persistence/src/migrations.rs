//! Embedded migrations, one folder per backend.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{DbConnection, StoreError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applies every pending migration; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Postgres(pg) => pg.run_pending_migrations(POSTGRES),
        DbConnection::Sqlite(lite) => lite.run_pending_migrations(SQLITE),
    }
    .map_err(|err| StoreError::Migration(err.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration, newest first (used to prove each `down.sql` works).
pub fn revert_all(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let reverted = match conn {
        DbConnection::Postgres(pg) => pg.revert_all_migrations(POSTGRES),
        DbConnection::Sqlite(lite) => lite.revert_all_migrations(SQLITE),
    }
    .map_err(|err| StoreError::Migration(err.to_string()))?;
    Ok(reverted.len())
}

/// Whether every embedded migration has been applied.
pub fn is_up_to_date(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConnection::Postgres(pg) => pg.has_pending_migration(POSTGRES),
        DbConnection::Sqlite(lite) => lite.has_pending_migration(SQLITE),
    }
    .map_err(|err| StoreError::Migration(err.to_string()))?;
    Ok(!pending)
}
