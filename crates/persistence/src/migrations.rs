//! Embedded migrations, one folder per backend.

use std::collections::HashSet;

use diesel::RunQueryDsl;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::unscoped::rekey::{Rekeyed, rekey};
use crate::{DbConnection, StoreError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applies every pending migration, then recomputes keys of an older folding; returns the
/// versions applied. An up-to-date database is left alone, so that a role without DDL rights
/// can run this too.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = if is_up_to_date(conn)? {
        Vec::new()
    } else {
        match conn {
            DbConnection::Postgres(pg) => pg.run_pending_migrations(POSTGRES),
            DbConnection::Sqlite(lite) => lite.run_pending_migrations(SQLITE),
        }
        .map_err(|err| StoreError::Migration(err.to_string()))?
        .iter()
        .map(ToString::to_string)
        .collect()
    };
    report(&rekey(conn)?);
    Ok(applied)
}

fn report(rekeyed: &Rekeyed) {
    if *rekeyed != Rekeyed::default() {
        tracing::info!(
            user_names = rekeyed.user_names,
            emails = rekeyed.emails,
            group_names = rekeyed.group_names,
            "keys recomputed for the current folding"
        );
    }
    for collision in &rekeyed.collisions {
        tracing::warn!(
            table = collision.table,
            workspace_id = %collision.workspace_id,
            kept = %collision.kept,
            renamed = %collision.renamed,
            "two names of one workspace now fold to one key: the older keeps it; merge or delete \
             the newer"
        );
    }
}

/// Connects to `url` (the role that owns the tables) and applies every pending migration;
/// returns the versions applied.
pub fn migrate(url: &crate::DatabaseUrl) -> Result<Vec<String>, StoreError> {
    let mut conn = url
        .connect()
        .map_err(|err| StoreError::Config(format!("cannot connect to {url}: {err}")))?;
    run_pending(&mut conn)
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

/// Reverts the newest applied migration (used to prove a migration fills what it adds).
pub fn revert_last(conn: &mut DbConnection) -> Result<String, StoreError> {
    let reverted = match conn {
        DbConnection::Postgres(pg) => pg.revert_last_migration(POSTGRES),
        DbConnection::Sqlite(lite) => lite.revert_last_migration(SQLITE),
    }
    .map_err(|err| StoreError::Migration(err.to_string()))?;
    Ok(reverted.to_string())
}

/// Whether every embedded migration has been applied. Reads the migrations table only (diesel's
/// own check would first try to create it, which the service's role may not do).
pub fn is_up_to_date(conn: &mut DbConnection) -> Result<bool, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let embedded = match conn {
        DbConnection::Postgres(_) => versions::<diesel::pg::Pg>(&POSTGRES)?,
        DbConnection::Sqlite(_) => versions::<diesel::sqlite::Sqlite>(&SQLITE)?,
    };
    let Ok(applied) =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load::<Applied>(conn)
    else {
        // No migrations table yet.
        return Ok(false);
    };
    let applied: HashSet<String> = applied.into_iter().map(|row| row.version).collect();
    Ok(embedded.iter().all(|version| applied.contains(version)))
}

fn versions<DB: diesel::backend::Backend>(
    source: &EmbeddedMigrations,
) -> Result<Vec<String>, StoreError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let all = MigrationSource::<DB>::migrations(source)
        .map_err(|err| StoreError::Migration(err.to_string()))?;
    Ok(all.iter().map(|m| m.name().version().to_string()).collect())
}
